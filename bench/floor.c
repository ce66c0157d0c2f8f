/*
 * bench-floor - the cost floor of a queue scan, and a command timer.
 *
 *	bench-floor floor DIR...
 *	bench-floor run [-o FILE] CMD [ARG...]
 *
 * floor: walk each DIR recursively (readdir, d_type), and for every
 * regular file open it, read its first 4 KiB and close it.  No parsing, no
 * stat(): the least any queue scanner must do.  Prints one line:
 *
 *	files=200000 dirs=17 wall=0.532
 *
 * run: run CMD with standard output to /dev/null (or FILE), standard error
 * inherited, and print one line:
 *
 *	wall=10.217 user=7.530 sys=2.421 maxrss_kb=23456 status=0
 *
 * wall is seconds (monotonic clock) from spawn to reap; maxrss_kb is the
 * child's peak resident set (wait4 ru_maxrss, KiB); status is the exit
 * code, or 128 + signal number.  Exit 0 when CMD exited 0, else 1.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READ_SIZE	4096

extern char **environ;

typedef struct FLOOR {
    unsigned long files;		/* regular files read */
    unsigned long dirs;			/* directories walked */
    unsigned char buf[READ_SIZE];
} FLOOR;

static double
now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double
tv_sec(const struct timeval *tv)
{
    return (double) tv->tv_sec + (double) tv->tv_usec / 1e6;
}

/* Open, read the first block, close.  Vanished files are normal. */
static void
floor_file(FLOOR *f, int dfd, const char *name)
{
    int     fd;

    if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
	if (errno != ENOENT)
	    fprintf(stderr, "bench-floor: open %s: %s\n", name,
		    strerror(errno));
	return;
    }
    if (read(fd, f->buf, sizeof(f->buf)) < 0)
	fprintf(stderr, "bench-floor: read %s: %s\n", name, strerror(errno));
    close(fd);
    f->files++;
}

/* Walk one directory; takes ownership of dfd. */
static void
floor_dir(FLOOR *f, int dfd, int depth)
{
    DIR    *dp;
    struct dirent *de;

    if ((dp = fdopendir(dfd)) == 0) {
	close(dfd);
	return;
    }
    f->dirs++;
    while ((de = readdir(dp)) != 0) {
	unsigned char type = de->d_type;
	struct stat st;
	int     sub;

	if (de->d_name[0] == '.')
	    continue;
	if (type == DT_UNKNOWN) {		/* file systems without d_type */
	    if (fstatat(dirfd(dp), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		continue;
	    type = S_ISDIR(st.st_mode) ? DT_DIR :
		S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
	}
	if (type == DT_REG)
	    floor_file(f, dirfd(dp), de->d_name);
	else if (type == DT_DIR && depth < 16
		 && (sub = openat(dirfd(dp), de->d_name,
			   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
	    floor_dir(f, sub, depth + 1);
    }
    closedir(dp);
}

static int
cmd_floor(int argc, char **argv)
{
    static FLOOR f;
    double  start = now_sec();
    int     i, fd, status = 0;

    for (i = 0; i < argc; i++) {
	if ((fd = open(argv[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
	    fprintf(stderr, "bench-floor: open %s: %s\n", argv[i],
		    strerror(errno));
	    status = 1;
	    continue;
	}
	floor_dir(&f, fd, 0);
    }
    printf("files=%lu dirs=%lu wall=%.3f\n", f.files, f.dirs,
	   now_sec() - start);
    return status;
}

static int
cmd_run(int argc, char **argv)
{
    const char *out = "/dev/null";
    posix_spawn_file_actions_t fa;
    struct rusage ru;
    double  start;
    pid_t   pid;
    int     err, wstatus, status;

    if (argc >= 2 && strcmp(argv[0], "-o") == 0) {
	out = argv[1];
	argc -= 2;
	argv += 2;
    }
    if (argc < 1) {
	fprintf(stderr, "usage: bench-floor run [-o FILE] CMD [ARG...]\n");
	return 2;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC,
				     0644);
    fflush(stdout);
    start = now_sec();
    if ((err = posix_spawnp(&pid, argv[0], &fa, 0, argv, environ)) != 0) {
	fprintf(stderr, "bench-floor: spawn %s: %s\n", argv[0], strerror(err));
	return 2;
    }
    while (wait4(pid, &wstatus, 0, &ru) < 0) {
	if (errno != EINTR) {
	    fprintf(stderr, "bench-floor: wait4: %s\n", strerror(errno));
	    return 2;
	}
    }
    status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) :
	128 + WTERMSIG(wstatus);
    printf("wall=%.3f user=%.3f sys=%.3f maxrss_kb=%ld status=%d\n",
	   now_sec() - start, tv_sec(&ru.ru_utime), tv_sec(&ru.ru_stime),
	   ru.ru_maxrss, status);
    posix_spawn_file_actions_destroy(&fa);
    return status == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "floor") == 0)
	return cmd_floor(argc - 2, argv + 2);
    if (argc >= 3 && strcmp(argv[1], "run") == 0)
	return cmd_run(argc - 2, argv + 2);
    fprintf(stderr, "usage: bench-floor floor DIR...\n"
	    "       bench-floor run [-o FILE] CMD [ARG...]\n");
    return 2;
}
