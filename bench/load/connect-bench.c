/*
 * connect-bench: a small epoll load generator for proxies on loopback.
 * A Node client tops out well below what squid or microsocks can take on two
 * cores, so set-ups/s, tunnel throughput, latency at a fixed rate and idle-tunnel
 * memory are driven from C.
 *
 * Modes (-m):
 *   connect  HTTP CONNECT to the target, optional Proxy-Authorization: Basic
 *   socks5   RFC 1928 CONNECT (IPv4 target), optional RFC 1929 username/password
 *   http     forward proxy: GET with an absolute URI, optional Proxy-Authorization
 *   direct   no proxy: straight to the target (-p defaults to -t); the generator's
 *            own ceiling on the same work
 * Work (one of):
 *   rate      (default) -c connections in a loop for -d seconds: set up the tunnel,
 *             optionally GET -g PATH through it and read the whole answer, close.
 *   fixed     -r RATE: open loop. RATE requests a second are due on a fixed
 *             schedule whatever the answers do; each one sets up a tunnel, GETs
 *             -g PATH and closes, or with -k reuses an idle keep-alive connection
 *             (at most -c connections). Latency runs from the scheduled time to
 *             the last body byte, so a request that waited for a free connection
 *             is charged the wait (no coordinated omission). The first
 *             20% of the run (at most 1 s) is warm-up and not counted.
 *   download  -D PATH: -c tunnels (default 1), each GETs PATH again and again
 *             (keep-alive) for -d seconds, counting body bytes. Use a file that
 *             sits in the page cache: the origin must not be what is measured.
 *   hold      -n N: open N tunnels (-c at a time), print a READY line, keep them
 *             idle until stdin closes or -d seconds pass.
 * Prints one JSON object per line on stdout; "cpu" is the generator's own user +
 * system seconds (a generator near one core per second would be the bottleneck).
 *
 * Build: gcc -O2 -o connect-bench connect-bench.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum {
  S_FREE, S_CONNECTING, S_HTTP_REPLY, S_SOCKS_METHOD, S_SOCKS_AUTH, S_SOCKS_REPLY, S_GET_REPLY, S_BODY,
  S_IDLE,  /* hold: an established tunnel kept open */
  S_READY, /* fixed -k: a keep-alive connection waiting for the next request */
};
enum { W_RATE, W_DOWNLOAD, W_HOLD, W_FIXED };
enum { M_CONNECT, M_SOCKS5, M_HTTP, M_DIRECT };

struct conn {
  int fd;
  int state;
  int len;                /* bytes in buf */
  int closing;            /* the answer said Connection: close */
  int reused;             /* fixed -k: the request went out on a kept-alive connection */
  long long body_left;    /* -1: until EOF */
  double since;           /* when this attempt started (timeouts) */
  double due;             /* fixed: when the current request was scheduled */
  char buf[2048];
};

static const char *user, *pass, *get_path, *dl_path;
static const char *proxy_host = "127.0.0.1", *target_host = "127.0.0.1";
static int mode = M_CONNECT, keepalive;
static int proxy_port, target_port, conns = 50, conns_set, hold_n, work = W_RATE;
static double seconds = 5; /* -d, fractions allowed */
static double fixed_rate;
static struct sockaddr_in proxy_addr;
static struct in_addr target_ip;
static char connect_req[1024], get_req[1400];
static int connect_req_len, get_req_len;
static long long ok, errors, timeouts, dropped, bytes, late;
static int epfd, established, in_flight;
static struct conn *pool;
static int slots;
static char big[1 << 18];
static double t_start, t_first_byte, warm_until;
static double *lat;          /* fixed: latencies in seconds */
static long long lat_n, lat_cap;
static double *backlog;      /* fixed: scheduled times of requests waiting for a connection */
static long long bl_head, bl_tail, bl_cap;

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
  /* Requests are tiny; a short write on a fresh socket means trouble. */
  return send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

static void close_conn(struct conn *c) {
  if (c->state == S_IDLE) established--;
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
  c->state = S_FREE;
  in_flight--;
}

static void finish(struct conn *c, int good) {
  if (good) ok++;
  else errors++;
  close_conn(c);
}

static void start(struct conn *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) { perror("socket"); exit(2); }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->len = 0;
  c->closing = 0;
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

static void send_get(struct conn *c) {
  c->len = 0;
  c->reused = c->state == S_READY;
  c->since = now();
  c->state = S_GET_REPLY;
  if (send_all(c->fd, get_req, get_req_len) < 0) finish(c, 0);
}

/* The tunnel is up (or, for http and direct, the TCP connection): GET, hold, or count it and close. */
static void tunnel_ready(struct conn *c) {
  c->len = 0;
  if (work == W_HOLD) {
    c->state = S_IDLE;
    established++;
  } else if (work == W_DOWNLOAD || work == W_FIXED || get_path) {
    send_get(c);
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

/* fixed: the next request waiting for a connection, if any. */
static int backlog_pop(double *due) {
  if (bl_head == bl_tail) return 0;
  *due = backlog[bl_head++ % bl_cap];
  return 1;
}

/* A whole answer arrived. */
static void body_done(struct conn *c) {
  if (work == W_FIXED) {
    double t = now();
    ok++;
    if (c->due >= warm_until && lat_n < lat_cap) lat[lat_n++] = t - c->due;
    if (!keepalive || c->closing) { close_conn(c); return; }
    double due;
    if (backlog_pop(&due)) { c->due = due; send_get(c); return; }
    c->state = S_READY;
    c->len = 0;
    return;
  }
  if (work != W_DOWNLOAD) { finish(c, 1); return; }
  ok++;
  send_get(c);
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
    if (!strncasecmp(p, "content-length:", 15)) c->body_left = atoll(p + 15);
    else if (!strncasecmp(p, "connection:", 11) && !strncasecmp(p + 11 + strspn(p + 11, " "), "close", 5))
      c->closing = 1;
  }
  long long got = c->len - end;
  if (work == W_DOWNLOAD) { bytes += got; if (!t_first_byte) t_first_byte = now(); }
  c->state = S_BODY;
  if (c->body_left < 0) return; /* no length: the body runs to EOF */
  if ((c->body_left -= got) < 0) finish(c, 0); /* more bytes than Content-Length: a broken relay */
  else if (c->body_left == 0) body_done(c);
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
    if (mode == M_SOCKS5) {
      unsigned char hello[3] = {5, 1, user ? 2 : 0};
      c->state = S_SOCKS_METHOD;
      if (send_all(c->fd, hello, 3) < 0) finish(c, 0);
    } else if (mode == M_CONNECT) {
      c->state = S_HTTP_REPLY;
      if (send_all(c->fd, connect_req, connect_req_len) < 0) finish(c, 0);
    } else {
      tunnel_ready(c);
    }
    return;
  }
  if (c->state == S_BODY) {
    ssize_t n = recv(c->fd, big, sizeof big, 0);
    if (n <= 0) {
      if (n < 0 && errno == EAGAIN) return;
      if (c->body_left >= 0 || n < 0) finish(c, 0);
      else if (work == W_FIXED) { c->closing = 1; body_done(c); } /* EOF ends a body without length */
      else finish(c, 1);
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
    if (c->state == S_READY) close_conn(c); /* the server ended an idle keep-alive connection: no error */
    else if (c->state == S_GET_REPLY && c->reused && c->len == 0) {
      /* It ended the connection as the request went out (tinyproxy closes after every
         answer without saying so): like an HTTP client, send it again on a new one. */
      close_conn(c);
      start(c);
    } else finish(c, 0);
    return;
  }
  c->len += n;
  switch (c->state) {
    case S_HTTP_REPLY: on_http_reply(c); break;
    case S_GET_REPLY: on_get_reply(c); break;
    case S_IDLE: case S_READY: c->len = 0; break; /* unexpected data on an idle connection: ignore */
    default: on_socks(c); break;
  }
}

/* fixed: a request is due at `due`: an idle keep-alive connection takes it, else a free slot opens one, else it waits. */
static void dispatch(double due) {
  struct conn *free_slot = NULL;
  for (int i = 0; i < slots; i++) {
    struct conn *c = &pool[i];
    if (c->state == S_READY) { c->due = due; send_get(c); return; }
    if (c->state == S_FREE && !free_slot) free_slot = c;
  }
  if (free_slot) { free_slot->due = due; start(free_slot); return; }
  late++;
  if (bl_tail - bl_head < bl_cap) backlog[bl_tail++ % bl_cap] = due;
}

/* fixed: a slot came free; the oldest waiting request takes it. */
static void refill(struct conn *c) {
  double due;
  if (c->state == S_FREE && backlog_pop(&due)) { c->due = due; start(c); }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double p) {
  if (!lat_n) return 0;
  long long i = (long long)(p * (lat_n - 1) + 0.5);
  return lat[i] * 1e6;
}

static void usage(void) {
  fprintf(stderr,
          "usage: connect-bench -m connect|socks5|http|direct -p PROXYPORT -t TARGETPORT [-P PROXYHOST] [-T TARGETIP]\n"
          "         [-u USER -w PASS] [-c CONNS] [-d SECONDS] [-k] [-g PATH | -D PATH | -n N | -r RATE -g PATH]\n");
  exit(2);
}

int main(int argc, char **argv) {
  int o;
  const char *mode_name = "connect";
  while ((o = getopt(argc, argv, "m:p:t:P:T:u:w:c:d:g:D:n:r:k")) != -1) {
    switch (o) {
      case 'm': mode_name = optarg; break;
      case 'p': proxy_port = atoi(optarg); break;
      case 't': target_port = atoi(optarg); break;
      case 'P': proxy_host = optarg; break;
      case 'T': target_host = optarg; break;
      case 'u': user = optarg; break;
      case 'w': pass = optarg; break;
      case 'c': conns = atoi(optarg); conns_set = 1; break;
      case 'd': seconds = atof(optarg); break;
      case 'g': get_path = optarg; break;
      case 'D': dl_path = optarg; work = W_DOWNLOAD; break;
      case 'n': hold_n = atoi(optarg); work = W_HOLD; break;
      case 'r': fixed_rate = atof(optarg); work = W_FIXED; break;
      case 'k': keepalive = 1; break;
      default: usage();
    }
  }
  if (!strcmp(mode_name, "connect")) mode = M_CONNECT;
  else if (!strcmp(mode_name, "socks5")) mode = M_SOCKS5;
  else if (!strcmp(mode_name, "http")) mode = M_HTTP;
  else if (!strcmp(mode_name, "direct")) mode = M_DIRECT;
  else usage();
  if (mode == M_DIRECT && !proxy_port) { proxy_port = target_port; proxy_host = target_host; }
  if (work == W_DOWNLOAD && !conns_set) conns = 1;
  if (work == W_FIXED && (fixed_rate <= 0 || !get_path)) usage();
  if (work == W_HOLD && (mode == M_HTTP || mode == M_DIRECT)) usage();
  if (!proxy_port || !target_port || conns < 1 || !(seconds > 0) || (user && !pass)) usage();
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
  char uri[600];
  const char *path = dl_path ? dl_path : get_path ? get_path : "/";
  if (mode == M_HTTP) snprintf(uri, sizeof uri, "http://%s:%d%s", target_host, target_port, path);
  else snprintf(uri, sizeof uri, "%s", path);
  get_req_len = snprintf(get_req, sizeof get_req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n%sConnection: %s\r\n\r\n", uri,
                         target_host, target_port, mode == M_HTTP ? auth : "",
                         dl_path || keepalive ? "keep-alive" : "close");

  slots = work == W_HOLD ? hold_n : conns;
  pool = calloc(slots, sizeof *pool);
  for (int i = 0; i < slots; i++) pool[i].fd = -1;
  epfd = epoll_create1(0);
  struct epoll_event evs[512];
  if (work == W_HOLD) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}; /* stdin: EOF ends the hold */
    epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev);
  }
  t_start = now();
  double deadline = t_start + seconds, last_scan = t_start;
  int next = 0, ready_printed = 0, stop = 0, tfd = -1;
  /* fixed: a timerfd wakes the loop at each due time (epoll_wait alone has 1 ms steps). */
  static struct conn timer_tag;
  double next_due = t_start;
  long long issued = 0;
  if (work == W_FIXED) {
    warm_until = t_start + (seconds * 0.2 < 1 ? seconds * 0.2 : 1);
    lat_cap = (long long)(fixed_rate * seconds) + 1024;
    lat = malloc(lat_cap * sizeof *lat);
    bl_cap = lat_cap;
    backlog = malloc(bl_cap * sizeof *backlog);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &timer_tag};
    epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
  }
  if (work == W_RATE || work == W_DOWNLOAD) for (int i = 0; i < conns; i++) start(&pool[i]);

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
    if (work == W_FIXED) {
      while (next_due <= t) {
        dispatch(next_due);
        next_due = t_start + ++issued / fixed_rate;
      }
      /* timerfd's CLOCK_MONOTONIC is the clock now() reads: arm it at the next due time. */
      struct itimerspec its = {.it_value = {.tv_sec = (time_t)next_due,
                                            .tv_nsec = (long)((next_due - (time_t)next_due) * 1e9)}};
      timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    }
    int n = epoll_wait(epfd, evs, 512, 100);
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      if (c == &timer_tag) {
        uint64_t x;
        if (read(tfd, &x, sizeof x) < 0) {}
        continue;
      }
      if (!c) { /* stdin */
        char sink[64];
        if (read(0, sink, sizeof sink) <= 0) stop = 1;
        continue;
      }
      if (c->fd < 0) continue;
      on_event(c, evs[i].events);
      if (work == W_RATE && c->state == S_FREE) start(c);
      if (work == W_FIXED) refill(c);
      /* A download stream that ended (a proxy's limit, a reset) is counted and opened again. */
      if (work == W_DOWNLOAD && c->state == S_FREE) start(c);
    }
    t = now();
    if (t - last_scan > 0.25) { /* a stuck handshake counts as a timeout and is retried */
      last_scan = t;
      for (int i = 0; i < slots; i++) {
        struct conn *c = &pool[i];
        if (c->state == S_FREE && work == W_RATE) { start(c); continue; } /* connect() failed at once */
        if (c->state == S_FREE && work == W_FIXED) { refill(c); continue; }
        /* Holding thousands of tunnels on a busy machine, a forking server (dante) can take
           seconds to answer; rate runs give up sooner so one stuck set-up costs little. */
        if (c->state == S_FREE || c->state == S_IDLE || c->state == S_READY || c->state == S_BODY ||
            t - c->since < (work == W_HOLD ? 15 : 3))
          continue;
        timeouts++;
        finish(c, 0);
        if (work == W_RATE) start(c);
        if (work == W_FIXED) refill(c);
      }
    }
  }
  double elapsed = now() - t_start;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  const char *m = mode_name;
  if (work == W_DOWNLOAD) {
    double span = t_first_byte ? now() - t_first_byte : elapsed;
    printf("{\"mode\":\"%s\",\"work\":\"download\",\"streams\":%d,\"bytes\":%lld,\"answers\":%lld,\"seconds\":%.3f,"
           "\"mbps\":%.1f,\"errors\":%lld,\"cpu\":%.3f}\n", m, conns, bytes, ok, span, bytes / 1e6 / span, errors, cpu);
  } else if (work == W_HOLD) {
    printf("{\"mode\":\"%s\",\"work\":\"hold\",\"established\":%d,\"dropped\":%lld,\"errors\":%lld,\"timeouts\":%lld,"
           "\"cpu\":%.3f}\n", m, established, dropped, errors, timeouts, cpu);
  } else if (work == W_FIXED) {
    qsort(lat, lat_n, sizeof *lat, cmp_double);
    double sum = 0;
    for (long long i = 0; i < lat_n; i++) sum += lat[i];
    printf("{\"mode\":\"%s\",\"work\":\"fixed\",\"target\":%.1f,\"ok\":%lld,\"errors\":%lld,\"timeouts\":%lld,"
           "\"late\":%lld,\"samples\":%lld,\"seconds\":%.3f,\"rate\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
           "\"max\":%.1f,\"mean\":%.1f,\"cpu\":%.3f}\n",
           m, fixed_rate, ok, errors, timeouts, late, lat_n, elapsed, ok / elapsed, pct(0.5), pct(0.9), pct(0.99),
           lat_n ? lat[lat_n - 1] * 1e6 : 0, lat_n ? sum / lat_n * 1e6 : 0, cpu);
  } else {
    printf("{\"mode\":\"%s\",\"work\":\"rate\",\"ok\":%lld,\"errors\":%lld,\"timeouts\":%lld,\"seconds\":%.3f,"
           "\"rate\":%.1f,\"cpu\":%.3f}\n", m, ok, errors, timeouts, elapsed, ok / elapsed, cpu);
  }
  return 0;
}
