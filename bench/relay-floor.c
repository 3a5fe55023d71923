/*
 * relay-floor: the fastest plain TCP relay this machine can run, as a floor for bench/proxy.ts.
 *
 * Not part of lteproxy. It forwards every connection on its port to 127.0.0.1:<target>, speaks no
 * proxy protocol, checks nothing and logs nothing, so whatever it costs over "direct" is the cost of
 * the extra TCP hop itself on this box:
 *   splice   two blocking threads per connection, socket -> pipe (1 MiB) -> socket with splice(2)
 *   sockmap  the kernel forwards the bytes (BPF sk_skb stream verdict + sk_redirect_map); the
 *            process only waits for the end of each direction
 * Usage: relay-floor splice|sockmap <target port>. Prints its listening port on stdout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SLOTS 4096

static int target_port, use_sockmap, sock_map, peer_map;
static unsigned next_slot;

struct dir { int from, to; };

static long bpf(int cmd, union bpf_attr *a) { return syscall(__NR_bpf, cmd, a, sizeof *a); }

static void *splice_dir(void *arg) {
  struct dir *d = arg;
  int p[2];
  if (pipe2(p, 0) == 0) {
    fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
    for (;;) {
      ssize_t n = splice(d->from, NULL, p[1], NULL, 1 << 20, SPLICE_F_MOVE);
      if (n <= 0) break;
      while (n > 0) {
        ssize_t m = splice(p[0], NULL, d->to, NULL, n, SPLICE_F_MOVE);
        if (m <= 0) goto out;
        n -= m;
      }
    }
  out:
    close(p[0]);
    close(p[1]);
  }
  shutdown(d->to, SHUT_WR);
  return NULL;
}

/* With a stream verdict attached, recv() only sees what the program passed on (nothing, here) and the end. */
static void *sockmap_dir(void *arg) {
  struct dir *d = arg;
  char buf[65536];
  for (;;) {
    ssize_t n = recv(d->from, buf, sizeof buf, 0);
    if (n > 0) { if (send(d->to, buf, n, MSG_NOSIGNAL) < 0) break; continue; }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      struct pollfd pf = { d->from, POLLIN | POLLRDHUP, 0 };
      poll(&pf, 1, 1000);
      continue;
    }
    break;
  }
  shutdown(d->to, SHUT_WR);
  return NULL;
}

static int map_update(int map, const void *key, const void *value) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = map; a.key = (unsigned long)key; a.value = (unsigned long)value; a.flags = BPF_ANY;
  return (int)bpf(BPF_MAP_UPDATE_ELEM, &a);
}

static void forget(int fd) {
  unsigned long long cookie;
  socklen_t len = sizeof cookie;
  union bpf_attr a;
  if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len)) return;
  memset(&a, 0, sizeof a);
  a.map_fd = peer_map; a.key = (unsigned long)&cookie;
  bpf(BPF_MAP_DELETE_ELEM, &a);
}

/* Puts both sockets in the sockmap (a's bytes go to b and back) and tells the program, by socket cookie, where each one's bytes go. */
static int link_pair(int a, int b) {
  unsigned slot = __atomic_fetch_add(&next_slot, 2, __ATOMIC_RELAXED) % SLOTS;
  int fds[2] = { a, b };
  /* b (the upstream) first: a's bytes may arrive the moment a is in, and must find b there. */
  for (int i = 1; i >= 0; i--) {
    unsigned long long cookie; socklen_t len = sizeof cookie;
    unsigned key = slot + i, peer = slot + !i;
    unsigned long long fd = fds[i];
    if (getsockopt(fds[i], SOL_SOCKET, SO_COOKIE, &cookie, &len)) return -1;
    if (map_update(peer_map, &cookie, &peer) || map_update(sock_map, &key, &fd)) return -1;
  }
  return 0;
}

static void *serve(void *arg) {
  int c = (int)(long)arg, u = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(target_port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  if (connect(u, (struct sockaddr *)&sa, sizeof sa) == 0) {
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (use_sockmap && link_pair(c, u)) perror("relay-floor: sockmap");
    struct dir up = { c, u }, down = { u, c };
    void *(*fn)(void *) = use_sockmap ? sockmap_dir : splice_dir;
    pthread_t t;
    pthread_create(&t, NULL, fn, &down);
    fn(&up);
    pthread_join(t, NULL);
    if (use_sockmap) { forget(c); forget(u); }
  }
  close(c);
  close(u);
  return NULL;
}

#define INS(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

static int load_sockmap(void) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = BPF_MAP_TYPE_SOCKMAP; a.key_size = 4; a.value_size = 8; a.max_entries = SLOTS;
  if ((sock_map = (int)bpf(BPF_MAP_CREATE, &a)) < 0) return -1;
  memset(&a, 0, sizeof a);
  a.map_type = BPF_MAP_TYPE_HASH; a.key_size = 8; a.value_size = 4; a.max_entries = SLOTS;
  if ((peer_map = (int)bpf(BPF_MAP_CREATE, &a)) < 0) return -1;
  /* peer = peer_map[cookie(skb)]; return peer ? sk_redirect_map(skb, sock_map, *peer, 0) : SK_PASS */
  struct bpf_insn prog[] = {
    INS(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),
    INS(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_socket_cookie),
    INS(BPF_STX | BPF_DW | BPF_MEM, 10, 0, -8, 0),
    INS(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, peer_map), INS(0, 0, 0, 0, 0),
    INS(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
    INS(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -8),
    INS(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
    INS(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 2, 0),
    INS(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, SK_PASS),
    INS(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    INS(BPF_LDX | BPF_W | BPF_MEM, 3, 0, 0, 0),
    INS(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0),
    INS(BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD, 0, sock_map), INS(0, 0, 0, 0, 0),
    INS(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0),
    INS(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_redirect_map),
    INS(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  static char log[16384];
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_SK_SKB; a.insns = (unsigned long)prog; a.insn_cnt = sizeof prog / sizeof prog[0];
  a.license = (unsigned long)"GPL"; a.log_buf = (unsigned long)log; a.log_size = sizeof log; a.log_level = 1;
  int prog_fd = (int)bpf(BPF_PROG_LOAD, &a);
  if (prog_fd < 0) { fprintf(stderr, "%s", log); return -1; }
  memset(&a, 0, sizeof a);
  a.target_fd = sock_map; a.attach_bpf_fd = prog_fd; a.attach_type = BPF_SK_SKB_STREAM_VERDICT;
  return (int)bpf(BPF_PROG_ATTACH, &a);
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[1], "splice") && strcmp(argv[1], "sockmap"))) {
    fprintf(stderr, "usage: relay-floor splice|sockmap <target port>\n");
    return 2;
  }
  use_sockmap = !strcmp(argv[1], "sockmap");
  target_port = atoi(argv[2]);
  if (use_sockmap && load_sockmap()) { perror("relay-floor: bpf"); return 1; }
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t len = sizeof sa;
  if (bind(l, (struct sockaddr *)&sa, sizeof sa) || listen(l, 1024) || getsockname(l, (struct sockaddr *)&sa, &len)) {
    perror("relay-floor: listen");
    return 1;
  }
  printf("%d\n", ntohs(sa.sin_port));
  fflush(stdout);
  for (;;) {
    int c = accept(l, NULL, NULL);
    if (c < 0) continue;
    pthread_t t;
    pthread_create(&t, NULL, serve, (void *)(long)c);
    pthread_detach(t);
  }
}
