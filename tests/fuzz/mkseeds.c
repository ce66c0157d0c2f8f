/*
 * mkseeds - write the seed corpus for fuzz_qf: one file per layout the
 * parser knows (cleanup, pointer chain, sendmail -t, postdrop, old postdrop).
 * usage: mkseeds DIR
 */
#include <stdio.h>

#include "qfbuild.h"

static void
save(const char *dir, const char *name, const QFB *b)
{
    char    path[512];
    FILE   *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((fp = fopen(path, "w")) == 0 || fwrite(b->buf, 1, b->len, fp) != b->len
	|| fclose(fp) != 0) {
	perror(path);
	exit(1);
    }
}

int
main(int argc, char **argv)
{
    static const char *const rcpts[] = {"a@x.example", "b@y.example", 0};
    static const char *const added[] = {"added@x.example", 0};
    QFB     b = {0};
    QFB_PTR ptr;

    if (argc != 2) {
	fprintf(stderr, "usage: mkseeds DIR\n");
	return 2;
    }
    qfb_message(&b, 1700000000, "s@z.example", rcpts, "192.0.2.1", "sasl");
    save(argv[1], "cleanup", &b);

    b.len = 0;
    qfb_pointer_message(&b, 1700000000, "s@z.example", "r@x.example",
			"t@x.example", added, &ptr);
    save(argv[1], "pointers", &b);

    b.len = 0;
    qfb_held_message(&b, 1700000000, "s@z.example", "r@x.example",
		     "X-Qshape-Hold: policy=x key=sender:y time=1",
		     "X-Qshape-Hold: policy=p key=sender_domain:z.example "
		     "time=1700000001");
    save(argv[1], "held", &b);

    b.len = 0;
    qfb_str(&b, REC_TIME, "1700000000 2");
    qfb_str(&b, REC_FULL, "Root");
    qfb_str(&b, REC_FROM, "root");
    qfb_str(&b, REC_RCPT, "u@x.example");
    qfb_rec(&b, REC_MESG, "", 0);
    qfb_str(&b, REC_NORM, "Subject: x");
    qfb_str(&b, REC_CONT, "long");
    qfb_rec(&b, REC_XTRA, "", 0);
    qfb_rec(&b, REC_END, "", 0);
    save(argv[1], "postdrop", &b);

    b.len = 0;
    qfb_str(&b, REC_FROM, "old@x.example");
    qfb_str(&b, REC_RCPT, "u@x.example");
    qfb_rec(&b, REC_MESG, "", 0);
    qfb_rec(&b, REC_XTRA, "", 0);
    qfb_rec(&b, REC_END, "", 0);
    save(argv[1], "postdrop-old", &b);
    free(b.buf);
    return 0;
}
