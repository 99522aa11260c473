/*
 * Kernel oracle for the static checker: reads lines "PROG_TYPE HEXINSNS" from stdin,
 * loads each program (license GPL, no maps) with BPF_PROG_LOAD and prints one line per
 * program: 0 when the verifier accepts it, else the errno, then the last log line.
 *
 *   gcc -O1 -o load_raw load_raw.c && ./load_raw < programs.txt
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

static char line[1 << 20];
static unsigned char insns[1 << 19];
static char log_buf[1 << 20];

int main(void)
{
	while (fgets(line, sizeof(line), stdin)) {
		int type = 0, n = 0, pos = 0;
		union bpf_attr a;
		unsigned v;
		long fd;
		char *p, *last;

		if (sscanf(line, "%d %n", &type, &pos) < 1) continue;
		for (p = line + pos; sscanf(p, "%2x", &v) == 1 && n < (int)sizeof(insns); p += 2)
			insns[n++] = (unsigned char)v;
		memset(&a, 0, sizeof(a));
		a.prog_type = type;
		a.insns = (unsigned long)insns;
		a.insn_cnt = n / 8;
		a.license = (unsigned long)"GPL";
		a.log_buf = (unsigned long)log_buf;
		a.log_size = sizeof(log_buf);
		a.log_level = 1;
		log_buf[0] = 0;
		fd = syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof(a));
		if (fd >= 0) {
			close((int)fd);
			printf("0\n");
		} else {
			int e = errno;
			size_t l = strlen(log_buf);
			while (l && log_buf[l - 1] == '\n') log_buf[--l] = 0;
			last = strrchr(log_buf, '\n');
			printf("%d %s\n", e, last ? last + 1 : log_buf);
		}
		fflush(stdout);
	}
	return 0;
}
