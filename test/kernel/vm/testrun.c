/*
 * Batch runner for the VM differential test: loads each program with
 * BPF_PROG_LOAD and runs it once with BPF_PROG_TEST_RUN.
 *
 * Standard input: records of
 *   u32 kind (1 = XDP, 2 = SOCKET_FILTER), u32 insn_cnt, u32 data_len,
 *   insn_cnt * 8 bytes of instructions, data_len bytes of packet data
 * (host byte order). Standard output: one line per record:
 *   ok RETVAL DATA_OUT_HEX     loaded and ran
 *   rej ERRNO LAST_LOG_LINE    the verifier rejected it
 *   run ERRNO                  BPF_PROG_TEST_RUN failed
 * Exit status 0 after the last record, 2 on malformed input.
 */
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_SIZE (1 << 20)
#define OUT_SIZE 4096

static char log_buf[LOG_SIZE];

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static int read_full(void *buf, size_t len)
{
	return fread(buf, 1, len, stdin) == len ? 0 : -1;
}

static int load(__u32 type, const void *insns, __u32 cnt, int with_log)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = (unsigned long)insns;
	a.insn_cnt = cnt;
	a.license = (unsigned long)"GPL";
	if (with_log) {
		log_buf[0] = 0;
		a.log_buf = (unsigned long)log_buf;
		a.log_size = LOG_SIZE;
		a.log_level = 1;
	}
	return (int)sys_bpf(BPF_PROG_LOAD, &a);
}

/* Prints the last non-empty line of the verifier log, on one line. */
static void print_last_log_line(void)
{
	size_t n = strnlen(log_buf, LOG_SIZE);
	char *end, *start;

	while (n > 0 && (log_buf[n - 1] == '\n' || log_buf[n - 1] == ' '))
		n--;
	log_buf[n] = 0;
	end = log_buf + n;
	start = end;
	while (start > log_buf && start[-1] != '\n')
		start--;
	/* "processed N insns ..." is a summary; the reason is the line before it */
	if (strncmp(start, "processed ", 10) == 0 && start > log_buf) {
		end = start - 1;
		*end = 0;
		start = end;
		while (start > log_buf && start[-1] != '\n')
			start--;
	}
	printf("%s", start);
}

int main(void)
{
	static unsigned char out[OUT_SIZE];
	__u32 hdr[3];

	while (fread(hdr, 1, sizeof(hdr), stdin) == sizeof(hdr)) {
		__u32 kind = hdr[0], cnt = hdr[1], dlen = hdr[2];
		unsigned char *insns, *data;
		union bpf_attr a;
		__u32 type;
		int fd;

		if ((kind != 1 && kind != 2) || cnt == 0 || cnt > 100000 || dlen > OUT_SIZE)
			return 2;
		type = kind == 1 ? BPF_PROG_TYPE_XDP : BPF_PROG_TYPE_SOCKET_FILTER;
		insns = malloc((size_t)cnt * 8);
		data = malloc(dlen ? dlen : 1);
		if (!insns || !data || read_full(insns, (size_t)cnt * 8) || read_full(data, dlen))
			return 2;
		fd = load(type, insns, cnt, 0);
		if (fd < 0) {
			int err = errno;

			printf("rej %d ", err);
			if (load(type, insns, cnt, 1) < 0)
				print_last_log_line();
			else
				printf("(loads with a log buffer)");
			printf("\n");
		} else {
			memset(&a, 0, sizeof(a));
			a.test.prog_fd = fd;
			a.test.data_in = (unsigned long)data;
			a.test.data_size_in = dlen;
			a.test.data_out = (unsigned long)out;
			a.test.data_size_out = OUT_SIZE;
			a.test.repeat = 1;
			if (sys_bpf(BPF_PROG_TEST_RUN, &a) < 0) {
				printf("run %d\n", errno);
			} else {
				__u32 j;

				printf("ok %u ", a.test.retval);
				for (j = 0; j < a.test.data_size_out && j < OUT_SIZE; j++)
					printf("%02x", out[j]);
				printf("\n");
			}
			close(fd);
		}
		free(insns);
		free(data);
	}
	fflush(stdout);
	return 0;
}
