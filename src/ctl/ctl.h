/*
 * ctl - the qshapectl commands.  Each takes the arguments after its name
 * (argv[0] is the command name) and returns the exit status.
 */
#ifndef QSHAPE_CTL_H
#define QSHAPE_CTL_H

extern int ctl_scan(int argc, char **argv);
extern int ctl_shape(int argc, char **argv);
extern int ctl_status(int argc, char **argv);
extern int ctl_check_config(int argc, char **argv);
extern int ctl_explain(int argc, char **argv);
extern int ctl_held(int argc, char **argv);
extern int ctl_release(int argc, char **argv);
extern int ctl_delete(int argc, char **argv);
extern int ctl_metrics(int argc, char **argv);

#endif
