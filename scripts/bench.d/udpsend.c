/* udpsend -- paced UDP datagram sender for scripts/bench.
 *
 * Sends COUNT datagrams at RATE per second to DST:PORT, cycling through the payloads of a file
 * (records of a little-endian u16 length followed by that many bytes; scripts/bench.d/bench.py
 * writes it from a `make-syslog-pcap load` capture). The datagrams leave from SOURCES sockets
 * bound to SRC, SRC+1, ... (so the receivers see several sources, like the capture's 16), in
 * batches of up to BATCH through sendmmsg(2).
 *
 * Why C and sendmmsg: a bare Python loop of socket.send() took 3.2 us per datagram here (316k/s
 * with a whole core and no pacing), so it cannot offer 400k-800k msg/s, and its interpreter time
 * would take the second core from the system under test. This sender reached 760k/s into a loopback
 * socket: sendmmsg amortises the syscall over a batch, and what remains is the kernel's own UDP
 * path (which, on loopback and veth, also delivers to the receiver in the sender's context).
 *
 * Pacing: the number of datagrams due is RATE x elapsed time; whenever at least MIN_BURST are due
 * a batch goes out, otherwise the sender sleeps (absolute clock_nanosleep, 1 us timer slack)
 * until they are. So bursts are at most MIN_BURST..BATCH datagrams, and the average rate is exact
 * unless the machine cannot keep up, in which case the achieved rate (printed) is lower.
 *
 * Keyed mode (a last argument `keyed`, for NetFlow/IPFIX): every record of the payload file is a
 * u16 LE length, then a u8 source index, then that many bytes, and the datagram leaves from
 * SRC + its index (< SOURCES), always the same source for the same record -- a flow exporter's
 * templates and its data must come from one address, since collectors key templates by exporter
 * address. All datagrams go through ONE unconnected socket, in file order, each with an
 * IP_PKTINFO control message naming its source address, so a sendmmsg batch can mix exporters
 * and the order (templates first) is kept. Every run starts at the file's first record. The
 * socket is bound to EXPORTER_PORT, as an exporter sends from one port for its life: collectors
 * that key templates by address and port (goflow2) then keep them from one run to the next.
 *
 * Prints one JSON line: {"sent":N,"seconds":S,"rate":R,"send_errors":E}.
 * Usage: udpsend DST PORT RATE COUNT PAYLOAD_FILE [SOURCES SRC [keyed]]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MIN_BURST 16
#define MAX_SOURCES 64
#define EXPORTER_PORT 9996

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_until(double t) {
    struct timespec ts;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

int main(int argc, char **argv) {
    int keyed = argc == 9 && strcmp(argv[8], "keyed") == 0;
    if (argc != 6 && argc != 8 && !keyed) {
        fprintf(stderr, "usage: %s DST PORT RATE COUNT PAYLOAD_FILE [SOURCES SRC [keyed]]\n", argv[0]);
        return 2;
    }
    const char *dst = argv[1];
    int port = atoi(argv[2]);
    double rate = atof(argv[3]);
    long long count = atoll(argv[4]);
    int nsrc = argc >= 8 ? atoi(argv[6]) : 1;
    if (port <= 0 || port > 65535 || rate <= 0 || count < 0 || nsrc < 1 || nsrc > MAX_SOURCES) {
        fprintf(stderr, "udpsend: bad arguments\n");
        return 2;
    }

    /* Load the payloads: records of u16 LE length + bytes. */
    FILE *f = fopen(argv[5], "rb");
    if (!f) {
        perror(argv[5]);
        return 1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        perror("fstat");
        return 1;
    }
    unsigned char *buf = malloc((size_t)st.st_size + 1);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        perror("read");
        return 1;
    }
    fclose(f);
    size_t npay = 0, cap = 1024;
    struct iovec *pay = malloc(cap * sizeof *pay);
    unsigned char *paysrc = malloc(cap);
    for (size_t off = 0; off + 2 <= (size_t)st.st_size;) {
        size_t len = (size_t)buf[off] | ((size_t)buf[off + 1] << 8);
        off += 2;
        if (off + len + (keyed ? 1 : 0) > (size_t)st.st_size) {
            fprintf(stderr, "udpsend: truncated payload file\n");
            return 1;
        }
        if (npay == cap) {
            cap *= 2;
            pay = realloc(pay, cap * sizeof *pay);
            paysrc = realloc(paysrc, cap);
        }
        paysrc[npay] = 0;
        if (keyed) {
            paysrc[npay] = buf[off++];
            if (paysrc[npay] >= nsrc) {
                fprintf(stderr, "udpsend: record %zu: source index %u >= SOURCES\n", npay, paysrc[npay]);
                return 2;
            }
        }
        pay[npay].iov_base = buf + off;
        pay[npay].iov_len = len;
        npay++;
        off += len;
    }
    if (npay == 0) {
        fprintf(stderr, "udpsend: no payloads\n");
        return 1;
    }

    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, dst, &to.sin_addr) != 1) {
        fprintf(stderr, "udpsend: bad DST\n");
        return 2;
    }
    struct in_addr src0 = {.s_addr = htonl(INADDR_ANY)};
    if (argc >= 8 && inet_pton(AF_INET, argv[7], &src0) != 1) {
        fprintf(stderr, "udpsend: bad SRC\n");
        return 2;
    }

    int socks[MAX_SOURCES];
    /* Keyed: one unconnected socket; the source address comes with each datagram (IP_PKTINFO). */
    struct cmsghdr *ctl = NULL;
    size_t ctl_len = CMSG_SPACE(sizeof(struct in_pktinfo));
    if (keyed) {
        socks[0] = socket(AF_INET, SOCK_DGRAM, 0);
        if (socks[0] < 0) {
            perror("socket");
            return 1;
        }
        int sndbuf = 4 << 20;
        setsockopt(socks[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(EXPORTER_PORT)};
        if (bind(socks[0], (struct sockaddr *)&any, sizeof any) != 0) {
            perror("bind EXPORTER_PORT");
            return 1;
        }
        ctl = calloc(nsrc, ctl_len);
        for (int i = 0; i < nsrc; i++) {
            struct cmsghdr *c = (struct cmsghdr *)((char *)ctl + (size_t)i * ctl_len);
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
            struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(c);
            pi->ipi_spec_dst.s_addr = htonl(ntohl(src0.s_addr) + (uint32_t)i);
        }
    }
    for (int i = 0; i < nsrc && !keyed; i++) {
        socks[i] = socket(AF_INET, SOCK_DGRAM, 0);
        if (socks[i] < 0) {
            perror("socket");
            return 1;
        }
        int sndbuf = 4 << 20;
        setsockopt(socks[i], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        if (argc >= 8) {
            struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = 0};
            from.sin_addr.s_addr = htonl(ntohl(src0.s_addr) + (uint32_t)i);
            if (bind(socks[i], (struct sockaddr *)&from, sizeof from) != 0) {
                perror("bind");
                return 1;
            }
        }
        if (connect(socks[i], (struct sockaddr *)&to, sizeof to) != 0) {
            perror("connect");
            return 1;
        }
    }

    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof msgs);
    long long sent = 0, errors = 0;
    size_t next = 0;
    int sock = 0;
    double t0 = now_s();
    while (sent < count) {
        double el = now_s() - t0;
        long long due = (long long)(rate * el);
        if (due > count) due = count;
        long long n = due - sent;
        long long want = count - sent < MIN_BURST ? count - sent : MIN_BURST;
        if (n < want) {
            sleep_until(t0 + (double)(sent + want) / rate);
            continue;
        }
        if (n > BATCH) n = BATCH;
        for (long long k = 0; k < n; k++) {
            size_t i = (next + (size_t)k) % npay;
            msgs[k].msg_hdr.msg_iov = &pay[i];
            msgs[k].msg_hdr.msg_iovlen = 1;
            if (keyed) {
                msgs[k].msg_hdr.msg_name = &to;
                msgs[k].msg_hdr.msg_namelen = sizeof to;
                msgs[k].msg_hdr.msg_control = (char *)ctl + (size_t)paysrc[i] * ctl_len;
                msgs[k].msg_hdr.msg_controllen = ctl_len;
            }
        }
        int r = sendmmsg(socks[sock], msgs, (unsigned)n, 0);
        if (r < 0) {
            /* ECONNREFUSED: an ICMP port unreachable from an earlier datagram (nobody listening
               yet); ENOBUFS/EAGAIN: a full queue. The datagram was not sent: count and retry. */
            errors++;
            if (errors > 100000) {
                fprintf(stderr, "udpsend: too many send errors: %s\n", strerror(errno));
                return 1;
            }
            continue;
        }
        sent += r;
        next = (next + (size_t)r) % npay;
        if (!keyed) sock = (sock + 1) % nsrc;
    }
    double secs = now_s() - t0;
    printf("{\"sent\":%lld,\"seconds\":%.6f,\"rate\":%.1f,\"send_errors\":%lld}\n", sent, secs,
           secs > 0 ? (double)sent / secs : 0.0, errors);
    return 0;
}
