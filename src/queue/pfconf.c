/*
 * pfconf - ask Postfix for a main.cf parameter.  See pfconf.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pfconf.h"

int
pfconf_get(const char *config_dir, const char *name, char *out,
	   size_t outlen, char *err, size_t errlen)
{
    char   *argv[6];
    int     argc = 0;
    int     pfd[2];
    pid_t   pid;
    posix_spawn_file_actions_t fa;
    char   *envp[] = {(char *) PFCONF_ENV, 0};
    size_t  got = 0;
    ssize_t n;
    int     status, rc;

    argv[argc++] = (char *) "postconf";
    if (config_dir) {
	argv[argc++] = (char *) "-c";
	argv[argc++] = (char *) config_dir;
    }
    argv[argc++] = (char *) "-xh";
    argv[argc++] = (char *) name;
    argv[argc] = 0;
    if (pipe2(pfd, O_CLOEXEC) < 0) {
	snprintf(err, errlen, "pipe: %s", strerror(errno));
	return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    rc = posix_spawn(&pid, PFCONF_POSTCONF, &fa, 0, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
	close(pfd[0]);
	snprintf(err, errlen, "cannot run %s: %s", PFCONF_POSTCONF,
		 strerror(rc));
	return -1;
    }
    while (got + 1 < outlen
	   && (n = read(pfd[0], out + got, outlen - 1 - got)) != 0) {
	if (n < 0) {
	    if (errno == EINTR)
		continue;
	    break;
	}
	got += (size_t) n;
    }
    close(pfd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
	 /* void */ ;
    out[got] = 0;
    out[strcspn(out, "\n")] = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
	snprintf(err, errlen, "postconf%s%s -xh %s failed",
		 config_dir ? " -c " : "", config_dir ? config_dir : "", name);
	return -1;
    }
    if (out[0] == 0) {
	snprintf(err, errlen, "postconf: %s is empty", name);
	return -1;
    }
    return 0;
}
