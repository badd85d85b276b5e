/*
 * connect-bench: a small epoll load generator for proxy tunnels on loopback.
 * A Node client tops out well below what squid or microsocks can take on two
 * cores, so set-ups/s, tunnel throughput and idle-tunnel memory are driven from C.
 *
 * Modes (-m):
 *   connect  HTTP CONNECT to the target, optional Proxy-Authorization: Basic
 *   socks5   RFC 1928 CONNECT (IPv4 target), optional RFC 1929 username/password
 * Work (one of):
 *   rate      (default) -c connections in a loop for -d seconds: set up the tunnel,
 *             optionally GET -g PATH through it and read the whole answer, close.
 *   download  -D PATH: one tunnel, GET PATH again and again (keep-alive) for -d
 *             seconds, counting body bytes. Use a file that sits in the page cache
 *             (tens of MB): the origin must not be what is measured.
 *   hold      -n N: open N tunnels (-c at a time), print a READY line, keep them
 *             idle until stdin closes or -d seconds pass.
 * Prints one JSON object per line on stdout.
 *
 * Build: gcc -O2 -o connect-bench connect-bench.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { S_FREE, S_CONNECTING, S_HTTP_REPLY, S_SOCKS_METHOD, S_SOCKS_AUTH, S_SOCKS_REPLY, S_GET_REPLY, S_BODY, S_IDLE };
enum { W_RATE, W_DOWNLOAD, W_HOLD };

struct conn {
  int fd;
  int state;
  int len;                /* bytes in buf */
  long long body_left;    /* -1: until EOF */
  double since;           /* when this attempt started (timeouts) */
  char buf[2048];
};

static const char *mode = "connect", *user, *pass, *get_path, *dl_path;
static const char *proxy_host = "127.0.0.1", *target_host = "127.0.0.1";
static int proxy_port, target_port, conns = 50, seconds = 5, hold_n, work = W_RATE;
static struct sockaddr_in proxy_addr;
static struct in_addr target_ip;
static char connect_req[1024], get_req[1024];
static int connect_req_len, get_req_len;
static long long ok, errors, timeouts, dropped, bytes;
static int epfd, established, in_flight;
static struct conn *pool;
static char big[1 << 18];
static double t_start, t_first_byte;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void b64(const char *in, char *out) {
  static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = strlen(in), i, o = 0;
  for (i = 0; i + 2 < n; i += 3) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63]; out[o++] = t[(v >> 6) & 63]; out[o++] = t[v & 63];
  }
  if (n - i == 1) {
    unsigned v = (unsigned char)in[i] << 16;
    out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63]; out[o++] = '='; out[o++] = '=';
  } else if (n - i == 2) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63]; out[o++] = t[(v >> 6) & 63]; out[o++] = '=';
  }
  out[o] = 0;
}

static int send_all(int fd, const void *p, size_t n) {
  /* Handshake messages are tiny; a short write on a fresh socket means trouble. */
  return send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

static void start(struct conn *c);

static void finish(struct conn *c, int good) {
  if (good) ok++;
  else errors++;
  if (c->state == S_IDLE) established--;
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
  c->state = S_FREE;
  in_flight--;
}

static void start(struct conn *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) { perror("socket"); exit(2); }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->len = 0;
  c->since = now();
  c->state = S_CONNECTING;
  in_flight++;
  struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
  if (connect(c->fd, (struct sockaddr *)&proxy_addr, sizeof proxy_addr) < 0 && errno != EINPROGRESS) finish(c, 0);
}

static void want_read(struct conn *c) {
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* The tunnel is up: GET through it, hold it, or count it and close. */
static void tunnel_ready(struct conn *c) {
  c->len = 0;
  if (work == W_HOLD) {
    c->state = S_IDLE;
    established++;
  } else if (work == W_DOWNLOAD || get_path) {
    c->state = S_GET_REPLY;
    if (send_all(c->fd, get_req, get_req_len) < 0) finish(c, 0);
  } else {
    finish(c, 1);
  }
}

static int header_end(struct conn *c) {
  char *e = memmem(c->buf, c->len, "\r\n\r\n", 4);
  return e ? (int)(e - c->buf) + 4 : -1;
}

static void on_http_reply(struct conn *c) {
  int end = header_end(c);
  if (end < 0) {
    if (c->len == (int)sizeof c->buf) finish(c, 0);
    return;
  }
  if (c->len < 12 || strncmp(c->buf, "HTTP/1.", 7) || strncmp(c->buf + 9, "200", 3)) { finish(c, 0); return; }
  tunnel_ready(c);
}

/* A whole answer arrived: count it and close, or in download mode ask again on the same tunnel. */
static void body_done(struct conn *c) {
  if (work != W_DOWNLOAD) { finish(c, 1); return; }
  ok++;
  c->len = 0;
  c->state = S_GET_REPLY;
  if (send_all(c->fd, get_req, get_req_len) < 0) finish(c, 0);
}

static void on_get_reply(struct conn *c) {
  int end = header_end(c);
  if (end < 0) {
    if (c->len == (int)sizeof c->buf) finish(c, 0);
    return;
  }
  if (c->len < 12 || strncmp(c->buf, "HTTP/1.", 7) || strncmp(c->buf + 9, "200", 3)) { finish(c, 0); return; }
  c->body_left = -1;
  for (char *p = c->buf; p && p < c->buf + end; p = memchr(p, '\n', c->buf + end - p)) {
    if (*p == '\n') p++;
    if (!strncasecmp(p, "content-length:", 15)) { c->body_left = atoll(p + 15); break; }
  }
  long long got = c->len - end;
  if (work == W_DOWNLOAD) { bytes += got; if (!t_first_byte) t_first_byte = now(); }
  if (c->body_left >= 0) c->body_left -= got;
  c->state = S_BODY;
  if (c->body_left == 0) body_done(c);
}

static void on_socks(struct conn *c) {
  unsigned char *b = (unsigned char *)c->buf;
  if (c->state == S_SOCKS_METHOD) {
    if (c->len < 2) return;
    if (b[0] != 5 || (b[1] != 0 && b[1] != 2) || (b[1] == 2 && !user)) { finish(c, 0); return; }
    c->len = 0;
    if (b[1] == 2) {
      unsigned char m[515];
      size_t ul = strlen(user), pl = strlen(pass), n = 0;
      m[n++] = 1; m[n++] = ul; memcpy(m + n, user, ul); n += ul; m[n++] = pl; memcpy(m + n, pass, pl); n += pl;
      c->state = S_SOCKS_AUTH;
      if (send_all(c->fd, m, n) < 0) finish(c, 0);
      return;
    }
  } else if (c->state == S_SOCKS_AUTH) {
    if (c->len < 2) return;
    if (b[1] != 0) { finish(c, 0); return; }
    c->len = 0;
  } else { /* S_SOCKS_REPLY */
    if (c->len < 5) return;
    int need = b[3] == 1 ? 10 : b[3] == 4 ? 22 : 7 + b[4];
    if (c->len < need) return;
    if (b[0] != 5 || b[1] != 0) { finish(c, 0); return; }
    tunnel_ready(c);
    return;
  }
  unsigned char req[10] = {5, 1, 0, 1};
  memcpy(req + 4, &target_ip, 4);
  req[8] = target_port >> 8; req[9] = target_port & 255;
  c->state = S_SOCKS_REPLY;
  if (send_all(c->fd, req, sizeof req) < 0) finish(c, 0);
}

static void on_event(struct conn *c, unsigned events) {
  if (c->state == S_CONNECTING) {
    int err = 0; socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err || !(events & EPOLLOUT)) { finish(c, 0); return; }
    want_read(c);
    int r;
    if (!strcmp(mode, "socks5")) {
      unsigned char hello[3] = {5, 1, user ? 2 : 0};
      c->state = S_SOCKS_METHOD;
      r = send_all(c->fd, hello, 3);
    } else {
      c->state = S_HTTP_REPLY;
      r = send_all(c->fd, connect_req, connect_req_len);
    }
    if (r < 0) finish(c, 0);
    return;
  }
  if (c->state == S_BODY) {
    ssize_t n = recv(c->fd, big, sizeof big, 0);
    if (n <= 0) {
      if (n < 0 && errno == EAGAIN) return;
      finish(c, c->body_left < 0 && n == 0); /* EOF ends a body without length */
      return;
    }
    if (work == W_DOWNLOAD) { bytes += n; if (!t_first_byte) t_first_byte = now(); }
    if (c->body_left >= 0 && (c->body_left -= n) <= 0) {
      if (c->body_left < 0) finish(c, 0); /* more bytes than Content-Length: a broken relay */
      else body_done(c);
    }
    return;
  }
  ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
  if (n < 0 && errno == EAGAIN) return;
  if (n <= 0) {
    if (c->state == S_IDLE) dropped++;
    finish(c, 0);
    return;
  }
  c->len += n;
  switch (c->state) {
    case S_HTTP_REPLY: on_http_reply(c); break;
    case S_GET_REPLY: on_get_reply(c); break;
    case S_IDLE: c->len = 0; break; /* unexpected data on an idle tunnel: ignore */
    default: on_socks(c); break;
  }
}

static void usage(void) {
  fprintf(stderr,
          "usage: connect-bench -m connect|socks5 -p PROXYPORT -t TARGETPORT [-P PROXYHOST] [-T TARGETIP]\n"
          "         [-u USER -w PASS] [-c CONNS] [-d SECONDS] [-g PATH | -D PATH | -n N]\n");
  exit(2);
}

int main(int argc, char **argv) {
  int o;
  while ((o = getopt(argc, argv, "m:p:t:P:T:u:w:c:d:g:D:n:")) != -1) {
    switch (o) {
      case 'm': mode = optarg; break;
      case 'p': proxy_port = atoi(optarg); break;
      case 't': target_port = atoi(optarg); break;
      case 'P': proxy_host = optarg; break;
      case 'T': target_host = optarg; break;
      case 'u': user = optarg; break;
      case 'w': pass = optarg; break;
      case 'c': conns = atoi(optarg); break;
      case 'd': seconds = atoi(optarg); break;
      case 'g': get_path = optarg; break;
      case 'D': dl_path = optarg; work = W_DOWNLOAD; conns = 1; break;
      case 'n': hold_n = atoi(optarg); work = W_HOLD; break;
      default: usage();
    }
  }
  if (!proxy_port || !target_port || conns < 1 || (user && !pass)) usage();
  if (strcmp(mode, "connect") && strcmp(mode, "socks5")) usage();
  if (user && (strlen(user) > 255 || strlen(pass) > 255)) usage();

  /* Idle-tunnel runs need one descriptor per tunnel: raise the soft limit to the hard one. */
  struct rlimit rl;
  if (!getrlimit(RLIMIT_NOFILE, &rl)) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }

  proxy_addr.sin_family = AF_INET;
  proxy_addr.sin_port = htons(proxy_port);
  if (inet_pton(AF_INET, proxy_host, &proxy_addr.sin_addr) != 1 || inet_pton(AF_INET, target_host, &target_ip) != 1) usage();

  char auth[1200] = "";
  if (user) {
    char raw[520], enc[800];
    snprintf(raw, sizeof raw, "%s:%s", user, pass);
    b64(raw, enc);
    snprintf(auth, sizeof auth, "Proxy-Authorization: Basic %s\r\n", enc);
  }
  connect_req_len = snprintf(connect_req, sizeof connect_req, "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n",
                             target_host, target_port, target_host, target_port, auth);
  get_req_len = snprintf(get_req, sizeof get_req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: %s\r\n\r\n",
                         dl_path ? dl_path : get_path ? get_path : "/", target_host, target_port,
                         dl_path ? "keep-alive" : "close");

  int slots = work == W_HOLD ? hold_n : conns;
  pool = calloc(slots, sizeof *pool);
  epfd = epoll_create1(0);
  struct epoll_event evs[512];
  if (work == W_HOLD) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}; /* stdin: EOF ends the hold */
    epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev);
  }
  t_start = now();
  double deadline = t_start + seconds, last_scan = t_start;
  int next = 0, ready_printed = 0, stop = 0;
  if (work != W_HOLD) for (int i = 0; i < conns; i++) start(&pool[i]);

  while (!stop) {
    double t = now();
    if (t >= deadline) break;
    if (work == W_HOLD) {
      /* Open tunnels -c at a time so the proxy's accept queue never overflows. */
      while (next < hold_n && in_flight - established < conns) start(&pool[next++]);
      if (!ready_printed && next == hold_n && in_flight == established) {
        printf("{\"ready\":true,\"established\":%d,\"errors\":%lld,\"seconds\":%.3f}\n", established, errors, t - t_start);
        fflush(stdout);
        ready_printed = 1;
      }
    }
    int n = epoll_wait(epfd, evs, 512, 100);
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      if (!c) { /* stdin */
        char sink[64];
        if (read(0, sink, sizeof sink) <= 0) stop = 1;
        continue;
      }
      if (c->fd < 0) continue;
      on_event(c, evs[i].events);
      if (work == W_RATE && c->state == S_FREE) start(c);
      /* A download tunnel that failed before any byte is retried; one that ran and ended stops the run. */
      if (work == W_DOWNLOAD && c->state == S_FREE) {
        if (bytes) stop = 1;
        else start(c);
      }
    }
    t = now();
    if (t - last_scan > 0.25) { /* a stuck handshake counts as a timeout and is retried */
      last_scan = t;
      for (int i = 0; i < slots; i++) {
        struct conn *c = &pool[i];
        if (c->state == S_FREE && work == W_RATE) { start(c); continue; } /* connect() failed at once */
        /* Holding thousands of tunnels on a busy machine, a forking server (dante) can take
           seconds to answer; rate runs give up sooner so one stuck set-up costs little. */
        if (c->state == S_FREE || c->state == S_IDLE || c->state == S_BODY || t - c->since < (work == W_HOLD ? 15 : 3))
          continue;
        timeouts++;
        finish(c, 0);
        if (work == W_RATE) start(c);
      }
    }
  }
  double elapsed = now() - t_start;
  /* Our own CPU use goes to stderr: a load generator near 100% of a core is the bottleneck. */
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  fprintf(stderr, "connect-bench cpu: user %.2f s, sys %.2f s in %.2f s\n", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
          ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, elapsed);
  if (work == W_DOWNLOAD) {
    double span = t_first_byte ? now() - t_first_byte : elapsed;
    printf("{\"mode\":\"%s\",\"work\":\"download\",\"bytes\":%lld,\"answers\":%lld,\"seconds\":%.3f,\"mbps\":%.1f,"
           "\"errors\":%lld}\n", mode, bytes, ok, span, bytes / 1e6 / span, errors);
  } else if (work == W_HOLD) {
    printf("{\"mode\":\"%s\",\"work\":\"hold\",\"established\":%d,\"dropped\":%lld,\"errors\":%lld,\"timeouts\":%lld}\n",
           mode, established, dropped, errors, timeouts);
  } else {
    printf("{\"mode\":\"%s\",\"work\":\"rate\",\"ok\":%lld,\"errors\":%lld,\"timeouts\":%lld,\"seconds\":%.3f,\"rate\":%.1f}\n",
           mode, ok, errors, timeouts, elapsed, ok / elapsed);
  }
  return 0;
}
