/*
 * qshapectl - the operator's command: a table of commands.
 */
#include <stdio.h>
#include <string.h>

#include "qshape/version.h"
#include "log.h"
#include "ctl.h"

static const struct {
    const char *name;
    int     (*fn) (int, char **);
    const char *help;
} commands[] = {
    {"scan", ctl_scan, "print the queue shape, reading the queue (qshape(1))"},
    {"shape", ctl_shape, "print the queue shape from the live summary"},
    {"status", ctl_status, "is the scanner alive; queue totals; throttled keys"},
    {"explain", ctl_explain, "the milter's verdict for a sender now, and why"},
    {"check-config", ctl_check_config, "check the configuration file"},
    {"held", ctl_held, "list the mail qshape-milter held, by policy and key"},
    {"release", ctl_release, "release mail qshape-milter held (postsuper -H)"},
    {"delete", ctl_delete, "delete mail qshape-milter held (postsuper -d)"},
    {"metrics", ctl_metrics, "the summary in the Prometheus text format"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *fp)
{
    size_t  i;

    fprintf(fp, "usage: qshapectl command [options] [arguments]\n\n"
	    "commands:\n");
    for (i = 0; i < NCOMMANDS; i++)
	fprintf(fp, "  %-13s %s\n", commands[i].name, commands[i].help);
    fprintf(fp, "\n'qshapectl command --help' describes a command; "
	    "see qshapectl(8).\n");
}

int
main(int argc, char **argv)
{
    size_t  i;

    log_init("qshapectl", 1, LOGL_INFO);
    if (argc < 2) {
	usage(stderr);
	return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
	usage(stdout);
	return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
	printf("qshapectl %s\n", QSHAPE_VERSION);
	return 0;
    }
    for (i = 0; i < NCOMMANDS; i++)
	if (strcmp(argv[1], commands[i].name) == 0)
	    return commands[i].fn(argc - 1, argv + 1);
    log_warnx("unknown command: %s", argv[1]);
    usage(stderr);
    return 2;
}
