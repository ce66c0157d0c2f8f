/*
 * cfg_print - a loaded configuration in libconfig syntax (cfg_print(),
 * declared in cfg.h).
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cfg_int.h"

static void
indent(FILE *fp, int depth)
{
    fprintf(fp, "%*s", depth * 4, "");
}

static void print_table(const CFG_TABLE *, const char *, FILE *, int);

static void
print_item(const CFG_ITEM *it, const char *base, FILE *fp, int depth)
{
    const void *at = base + it->offset;
    char    buf[4096];
    size_t  i, n;

    indent(fp, depth);
    fprintf(fp, "%s = ", it->name);
    switch (it->type) {
    case CFG_BOOL:
	fprintf(fp, "%s;\n", *(const int *) at ? "true" : "false");
	break;
    case CFG_INT:
	n = (size_t) (*(const int64_t *) at > INT_MAX
		      || *(const int64_t *) at < INT_MIN);
	fprintf(fp, "%lld%s;\n", (long long) *(const int64_t *) at,
		n ? "L" : "");
	break;
    case CFG_DURATION:
	fprintf(fp, "%lld;\t# %s\n", (long long) *(const int64_t *) at,
		cfg_unit_name(it->unit));
	break;
    case CFG_MODE:
	fprintf(fp, "\"0%03llo\";\n",
		(unsigned long long) *(const int64_t *) at);
	break;
    case CFG_FLOAT:
	cfg_fmt_double(*(const double *) at, buf, sizeof(buf));
	fprintf(fp, "%s%s;\n", buf, strpbrk(buf, ".en") ? "" : ".0");
	break;
    case CFG_STRING:
	cfg_quote(*(char *const *) at, buf, sizeof(buf));
	fprintf(fp, "%s;\n", buf);
	break;
    case CFG_ENUM:
	fprintf(fp, "\"%s\";\n", cfg_enum_name(it, *(const int *) at));
	break;
    case CFG_STRINGS:{
	    const CFG_STRLIST *l = at;

	    fputc('[', fp);
	    for (i = 0; i < l->n; i++) {
		cfg_quote(l->v[i], buf, sizeof(buf));
		fprintf(fp, "%s %s", i ? "," : "", buf);
	    }
	    fprintf(fp, " ];\n");
	    break;
	}
    case CFG_GROUP:
	fprintf(fp, "{\n");
	print_table(it->sub, at, fp, depth + 1);
	indent(fp, depth);
	fprintf(fp, "};\n");
	break;
    case CFG_GROUPLIST:
	n = *(const size_t *) (base + it->count_offset);
	fprintf(fp, "(%s", n ? "\n" : " ");
	for (i = 0; i < n; i++) {
	    indent(fp, depth + 1);
	    fprintf(fp, "{\n");
	    print_table(it->sub, *(char *const *) at + i * it->size, fp,
			depth + 2);
	    indent(fp, depth + 1);
	    fprintf(fp, "}%s\n", i + 1 < n ? "," : "");
	}
	if (n)
	    indent(fp, depth);
	fprintf(fp, ");\n");
	break;
    }
}

static void
print_table(const CFG_TABLE *t, const char *base, FILE *fp, int depth)
{
    const CFG_ITEM *it;

    for (it = t->items; it->name; it++)
	if (it->show == 0 || it->show(base))
	    print_item(it, base, fp, depth);
}

void
cfg_print(const CFG_TABLE *t, const void *obj, FILE *fp)
{
    print_table(t, obj, fp, 0);
}
