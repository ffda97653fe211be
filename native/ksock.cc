// ksock: the few socket primitives Node does not offer (netlink, AF_PACKET, raw IPv6 with ancillary data).
// Every protocol codec lives in TypeScript; this file only moves bytes between the kernel and Buffers.
// Sockets are non-blocking; a Watcher (uv_poll) tells JS when one is readable, a Timer (uv_timer) wakes the VRRP engine
// at its deadline.
#include <napi.h>
#include <uv.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace {

Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err) {
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, uv_err_name(-err)));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

// socket(domain, type, protocol) -> fd; always non-blocking and close-on-exec.
Napi::Value Socket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = socket(info[0].As<Napi::Number>().Int32Value(),
                  info[1].As<Napi::Number>().Int32Value() | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  info[2].As<Napi::Number>().Int32Value());
  if (fd < 0) return ThrowErrno(env, "socket", errno);
  return Napi::Number::New(env, fd);
}

// bind(fd, sockaddr bytes)
Napi::Value Bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto addr = info[1].As<Napi::Buffer<uint8_t>>();
  if (bind(info[0].As<Napi::Number>().Int32Value(), reinterpret_cast<sockaddr*>(addr.Data()),
           static_cast<socklen_t>(addr.Length())) < 0)
    return ThrowErrno(env, "bind", errno);
  return env.Undefined();
}

// setsockopt(fd, level, name, value bytes)
Napi::Value SetSockOpt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto val = info[3].As<Napi::Buffer<uint8_t>>();
  if (setsockopt(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(),
                 info[2].As<Napi::Number>().Int32Value(), val.Data(), static_cast<socklen_t>(val.Length())) < 0)
    return ThrowErrno(env, "setsockopt", errno);
  return env.Undefined();
}

// getsockopt(fd, level, name, maxlen) -> Buffer
Napi::Value GetSockOpt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  socklen_t len = info[3].As<Napi::Number>().Uint32Value();
  std::vector<uint8_t> buf(len);
  if (getsockopt(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(),
                 info[2].As<Napi::Number>().Int32Value(), buf.data(), &len) < 0)
    return ThrowErrno(env, "getsockopt", errno);
  return Napi::Buffer<uint8_t>::Copy(env, buf.data(), len);
}

// getsockname(fd) -> sockaddr bytes (netlink sockets learn their port id this way)
Napi::Value GetSockName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(info[0].As<Napi::Number>().Int32Value(), reinterpret_cast<sockaddr*>(&ss), &len) < 0)
    return ThrowErrno(env, "getsockname", errno);
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(&ss), len);
}

// sendto(fd, data, sockaddr bytes | null, flags) -> bytes sent, or -1 when the socket would block
Napi::Value SendTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto data = info[1].As<Napi::Buffer<uint8_t>>();
  const sockaddr* sa = nullptr;
  socklen_t salen = 0;
  if (info.Length() > 2 && info[2].IsBuffer()) {
    auto a = info[2].As<Napi::Buffer<uint8_t>>();
    sa = reinterpret_cast<const sockaddr*>(a.Data());
    salen = static_cast<socklen_t>(a.Length());
  }
  int flags = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 0;
  ssize_t n;
  do {
    n = sendto(info[0].As<Napi::Number>().Int32Value(), data.Data(), data.Length(), flags, sa, salen);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
    return ThrowErrno(env, "sendto", errno);
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

// recvmsg(fd, maxData, maxControl) -> { data, addr, control, flags } or null when nothing is waiting.
// MSG_TRUNC is passed so that data.length reports a truncated datagram's real size through `flags`.
Napi::Value RecvMsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t maxData = info[1].As<Napi::Number>().Uint32Value();
  size_t maxCtl = info.Length() > 2 ? info[2].As<Napi::Number>().Uint32Value() : 0;
  std::vector<uint8_t> data(maxData), ctl(maxCtl ? maxCtl : 1);
  sockaddr_storage ss;
  iovec iov{data.data(), data.size()};
  msghdr msg{};
  msg.msg_name = &ss;
  msg.msg_namelen = sizeof ss;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = maxCtl ? ctl.data() : nullptr;
  msg.msg_controllen = maxCtl;
  ssize_t n;
  do {
    n = recvmsg(info[0].As<Napi::Number>().Int32Value(), &msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    return ThrowErrno(env, "recvmsg", errno);
  }
  Napi::Object out = Napi::Object::New(env);
  size_t got = static_cast<size_t>(n) < data.size() ? static_cast<size_t>(n) : data.size();
  out.Set("data", Napi::Buffer<uint8_t>::Copy(env, data.data(), got));
  out.Set("addr", Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(&ss), msg.msg_namelen));
  out.Set("control", Napi::Buffer<uint8_t>::Copy(env, ctl.data(), maxCtl ? msg.msg_controllen : 0));
  out.Set("flags", Napi::Number::New(env, msg.msg_flags));
  return out;
}

// recvInto(fd, data, addr, control | null, out) -> bytes received, or -1 when nothing is waiting. The same read as
// recvmsg into the caller's buffers, kept across packets: no result object, no copies, nothing zeroed per packet.
// out (Int32Array of 3) gets the address length, the control length and msg_flags (MSG_TRUNC: data was too short).
Napi::Value RecvInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto data = info[1].As<Napi::Buffer<uint8_t>>();
  auto addr = info[2].As<Napi::Buffer<uint8_t>>();
  uint8_t* ctl = nullptr;
  size_t ctlLen = 0;
  if (info[3].IsBuffer()) {
    auto c = info[3].As<Napi::Buffer<uint8_t>>();
    ctl = c.Data();
    ctlLen = c.Length();
  }
  auto out = info[4].As<Napi::Int32Array>();
  iovec iov{data.Data(), data.Length()};
  msghdr msg{};
  msg.msg_name = addr.Data();
  msg.msg_namelen = static_cast<socklen_t>(addr.Length());
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctlLen ? ctl : nullptr;
  msg.msg_controllen = ctlLen;
  ssize_t n;
  do {
    n = recvmsg(info[0].As<Napi::Number>().Int32Value(), &msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
    return ThrowErrno(env, "recvmsg", errno);
  }
  if (out.ElementLength() >= 3) {
    out[0] = static_cast<int32_t>(msg.msg_namelen);
    out[1] = static_cast<int32_t>(ctlLen ? msg.msg_controllen : 0);
    out[2] = msg.msg_flags;
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (close(info[0].As<Napi::Number>().Int32Value()) < 0) return ThrowErrno(env, "close", errno);
  return env.Undefined();
}

// Real-time signals (keepalived's JSON dump is SIGRTMIN+2, STATS_CLEAR SIGRTMAX-1) cannot be trapped from Node:
// libuv only knows the classic ones and the default action kills the process. A tiny async-signal-safe handler
// writes the signal number into a non-blocking pipe whose read end JS watches with a Watcher.
int g_sigpipe[2] = {-1, -1};

void OnSignal(int sig) {
  unsigned char b = static_cast<unsigned char>(sig);
  ssize_t r = write(g_sigpipe[1], &b, 1);
  (void)r;
}

// signalPipe([signo, ...]) -> read fd of the pipe (one byte per delivered signal)
Napi::Value SignalPipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_sigpipe[0] < 0 && pipe2(g_sigpipe, O_NONBLOCK | O_CLOEXEC) < 0) return ThrowErrno(env, "pipe2", errno);
  auto list = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) {
    int sig = list.Get(i).As<Napi::Number>().Int32Value();
    struct sigaction sa {};
    sa.sa_handler = OnSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(sig, &sa, nullptr) < 0) return ThrowErrno(env, "sigaction", errno);
  }
  return Napi::Number::New(env, g_sigpipe[0]);
}

// { min, max } of the real-time signals as this libc numbers them (glibc reserves the first two).
Napi::Value RtSignals(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("min", Napi::Number::New(info.Env(), SIGRTMIN));
  o.Set("max", Napi::Number::New(info.Env(), SIGRTMAX));
  return o;
}

Napi::Value IfNameToIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  unsigned idx = if_nametoindex(info[0].As<Napi::String>().Utf8Value().c_str());
  return Napi::Number::New(env, idx);  // 0 = no such interface
}

// ifreqIoctl(fd, request, ifname, payload, byPointer) -> 0 or errno. One interface ioctl (linkbeat's SIOCGMIIPHY,
// SIOCGMIIREG, SIOCETHTOOL, SIOCGIFFLAGS): the payload is copied into the ifreq's union (byPointer false, at most
// its 24 bytes) or the union's ifr_data points at it (byPointer true, as SIOCETHTOOL wants); either way what the
// kernel wrote comes back in `payload`. The structures inside are TypeScript's (src/net/linkbeat-probe.ts).
Napi::Value IfreqIoctl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  unsigned long request = info[1].As<Napi::Number>().Uint32Value();
  std::string name = info[2].As<Napi::String>().Utf8Value();
  auto payload = info[3].As<Napi::Buffer<uint8_t>>();
  bool byPointer = info[4].As<Napi::Boolean>().Value();
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (name.size() >= IFNAMSIZ) return Napi::Number::New(env, ENODEV);
  memcpy(ifr.ifr_name, name.c_str(), name.size());
  size_t inline_len = sizeof ifr.ifr_ifru;
  if (byPointer) ifr.ifr_data = reinterpret_cast<char*>(payload.Data());
  else memcpy(&ifr.ifr_ifru, payload.Data(), payload.Length() < inline_len ? payload.Length() : inline_len);
  if (ioctl(fd, request, &ifr) < 0) return Napi::Number::New(env, errno);
  if (!byPointer) memcpy(payload.Data(), &ifr.ifr_ifru, payload.Length() < inline_len ? payload.Length() : inline_len);
  return Napi::Number::New(env, 0);
}

// Process scheduling and memory, for vrrp/checker_rt_priority, _no_swap and _rlimit_rttime. Thin syscalls; the
// policy (which thread, which limits, what to log) is TypeScript's.

// gettid() -> the calling thread's id (sched_setscheduler with 0 changes only this thread, not the process).
Napi::Value GetTid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(syscall(SYS_gettid)));
}

// schedSetScheduler(tid, policy, priority): policy may carry SCHED_RESET_ON_FORK.
Napi::Value SchedSetScheduler(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sched_param sp{};
  sp.sched_priority = info[2].As<Napi::Number>().Int32Value();
  if (sched_setscheduler(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(), &sp) < 0)
    return ThrowErrno(env, "sched_setscheduler", errno);
  return env.Undefined();
}

// schedGetScheduler(tid) -> { policy (with SCHED_RESET_ON_FORK if set), priority }
Napi::Value SchedGetScheduler(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int tid = info[0].As<Napi::Number>().Int32Value();
  int policy = sched_getscheduler(tid);
  if (policy < 0) return ThrowErrno(env, "sched_getscheduler", errno);
  sched_param sp{};
  if (sched_getparam(tid, &sp) < 0) return ThrowErrno(env, "sched_getparam", errno);
  Napi::Object o = Napi::Object::New(env);
  o.Set("policy", Napi::Number::New(env, policy));
  o.Set("priority", Napi::Number::New(env, sp.sched_priority));
  return o;
}

// mlock2(address, length, flags): addresses cross as doubles (user space is below 2^47, exact in a double).
Napi::Value MLock2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto addr = reinterpret_cast<void*>(static_cast<uintptr_t>(info[0].As<Napi::Number>().DoubleValue()));
  if (mlock2(addr, static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue()), info[2].As<Napi::Number>().Uint32Value()) < 0)
    return ThrowErrno(env, "mlock2", errno);
  return env.Undefined();
}

// madvise(address, length, advice): addresses cross as doubles, as for mlock2. The daemon uses MADV_DONTNEED to
// drop its mappings of node's own read-only file pages after start-up (memory-trim.ts).
Napi::Value MAdvise(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto addr = reinterpret_cast<void*>(static_cast<uintptr_t>(info[0].As<Napi::Number>().DoubleValue()));
  if (madvise(addr, static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue()), info[2].As<Napi::Number>().Int32Value()) < 0)
    return ThrowErrno(env, "madvise", errno);
  return env.Undefined();
}

// Limits cross as doubles: RLIM_INFINITY is passed and returned as -1 (every finite limit used here is < 2^53).
Napi::Value SetRlimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto lim = [&](int i) -> rlim_t {
    double v = info[i].As<Napi::Number>().DoubleValue();
    return v < 0 ? RLIM_INFINITY : static_cast<rlim_t>(v);
  };
  rlimit r{lim(1), lim(2)};
  if (setrlimit(info[0].As<Napi::Number>().Int32Value(), &r) < 0) return ThrowErrno(env, "setrlimit", errno);
  return env.Undefined();
}

Napi::Value GetRlimit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  rlimit r{};
  if (getrlimit(info[0].As<Napi::Number>().Int32Value(), &r) < 0) return ThrowErrno(env, "getrlimit", errno);
  auto num = [&](rlim_t v) { return Napi::Number::New(env, v == RLIM_INFINITY ? -1.0 : static_cast<double>(v)); };
  Napi::Object o = Napi::Object::New(env);
  o.Set("soft", num(r.rlim_cur));
  o.Set("hard", num(r.rlim_max));
  return o;
}

// The RLIMIT_RTTIME guard of a real-time child (*_rt_priority, process-priority.ts has the policy). The kernel sends
// SIGXCPU when a real-time thread has run past the soft limit without sleeping and SIGKILL at the hard limit. A
// Node process can run that long inside V8 (a garbage collection, a long turn of JS) where no JS signal listener
// runs, so the handler is native: it turns the real-time threads back to SCHED_OTHER at once (a raw syscall and
// atomics, async-signal-safe), which ends the kernel's count before the hard limit, and wakes the event loop
// (uv_async_send is async-signal-safe) so JS can log it and later promote the thread again.
constexpr int kMaxRtTids = 8;
std::atomic<int> g_rt_tids[kMaxRtTids];
std::atomic<int> g_rt_ntids{0};
std::atomic<uint32_t> g_rt_demotions{0};
std::atomic<int> g_rt_demoted_nice{0};
std::atomic<uv_async_t*> g_rt_async{nullptr};
Napi::FunctionReference* g_rt_cb = nullptr;  // never freed: it may be called until the process exits

void OnSigxcpu(int) {
  int saved = errno;
  sched_param sp{};
  int n = g_rt_ntids.load();
  int nice = g_rt_demoted_nice.load();
  for (int i = 0; i < n; i++) {
    syscall(SYS_sched_setscheduler, g_rt_tids[i].load(), SCHED_OTHER | SCHED_RESET_ON_FORK, &sp);
    syscall(SYS_setpriority, PRIO_PROCESS, g_rt_tids[i].load(), nice);
  }
  g_rt_demotions.fetch_add(1);
  if (uv_async_t* a = g_rt_async.load()) uv_async_send(a);
  errno = saved;
}

// The C call, not node-addon-api's MakeCallback: at exit the environment's clean-up still runs the loop, and a
// demotion's wake-up pending then finds JS unable to run; node-addon-api turns that failure into a fatal error
// (measured: exit status 134 after a demotion in the last turn). Here that failure is dropped; an exception thrown
// by the callback itself is still reported as uncaught.
void OnRtAsync(uv_async_t* h) {
  if (!g_rt_cb || g_rt_cb->IsEmpty()) return;
  napi_env env = g_rt_cb->Env();
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value global, result;
  if (napi_get_global(env, &global) == napi_ok &&
      napi_make_callback(env, nullptr, global, g_rt_cb->Value(), 0, nullptr, &result) == napi_pending_exception) {
    // onDemoted threw: an uncaught exception, as from any other callback of the loop.
    napi_value err;
    if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

// rtGuard(tids, onDemoted, nice): at SIGXCPU, demote these threads to SCHED_OTHER at `nice` and call onDemoted() on the event loop
// (coalesced: once for one or more demotions since the last call). Installs the handler on first use, replacing
// any other SIGXCPU handler (libuv's, if JS ever listened: a JS listener could not run in time anyway).
Napi::Value RtGuard(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto list = info[0].As<Napi::Array>();
  if (list.Length() > static_cast<uint32_t>(kMaxRtTids)) {
    Napi::RangeError::New(env, "rtGuard: too many threads").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  g_rt_ntids.store(0);
  for (uint32_t i = 0; i < list.Length(); i++) g_rt_tids[i].store(list.Get(i).As<Napi::Number>().Int32Value());
  g_rt_ntids.store(static_cast<int>(list.Length()));
  g_rt_demoted_nice.store(info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 0);
  if (!g_rt_cb) g_rt_cb = new Napi::FunctionReference();
  *g_rt_cb = Napi::Persistent(info[1].As<Napi::Function>());
  if (!g_rt_async.load()) {
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    auto* a = new uv_async_t;
    int r = uv_async_init(loop, a, OnRtAsync);
    if (r < 0) {
      delete a;
      return ThrowErrno(env, "uv_async_init", -r);
    }
    uv_unref(reinterpret_cast<uv_handle_t*>(a));  // never keeps the process alive
    g_rt_async.store(a);
    struct sigaction sa {};
    sa.sa_handler = OnSigxcpu;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGXCPU, &sa, nullptr) < 0) return ThrowErrno(env, "sigaction", errno);
  }
  return env.Undefined();
}

// rtDemotions() -> how many times the SIGXCPU handler demoted the threads since the process started.
Napi::Value RtDemotions(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), g_rt_demotions.load());
}

// schedSetRealtime(policy, priority, softUs, hardUs): the calling thread to `policy` with RLIMIT_RTTIME soft/hard,
// without inheriting a stale count. The kernel counts a real-time thread's ticks since it last woke from a sleep
// and resets the count only on that wake-up (a wake-up enqueued in the real-time class), never when the policy
// changes: a thread demoted at SIGXCPU comes back with its old count. So the thread switches with no RLIMIT_RTTIME
// at all (RLIM_INFINITY: the kernel does not count), sleeps until it has really blocked as a real-time thread
// (ru_nvcsw rises; a sleep can end before the thread leaves the CPU, measured in a TCG guest: the wake-up then finds
// it still queued and resets nothing), and only then takes the limits. Sleeps double from 50 µs up to 6.4 ms.
// Without CAP_SYS_RESOURCE to lift the limit, it is held at soft = hard while switching, as before.
Napi::Value SchedSetRealtime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int policy = info[0].As<Napi::Number>().Int32Value();
  sched_param sp{};
  sp.sched_priority = info[1].As<Napi::Number>().Int32Value();
  rlim_t soft = static_cast<rlim_t>(info[2].As<Napi::Number>().DoubleValue());
  rlim_t hard = static_cast<rlim_t>(info[3].As<Napi::Number>().DoubleValue());
  rlimit none{RLIM_INFINITY, RLIM_INFINITY};
  if (setrlimit(RLIMIT_RTTIME, &none) < 0) {
    rlimit hold{hard, hard};
    if (setrlimit(RLIMIT_RTTIME, &hold) < 0) return ThrowErrno(env, "setrlimit", errno);
  }
  if (sched_setscheduler(0, policy, &sp) < 0) return ThrowErrno(env, "sched_setscheduler", errno);
  long sleepNs = 50 * 1000;
  for (int i = 0; i < 8; i++, sleepNs *= 2) {
    rusage before{}, after{};
    getrusage(RUSAGE_THREAD, &before);
    timespec ts{0, sleepNs};
    nanosleep(&ts, nullptr);
    getrusage(RUSAGE_THREAD, &after);
    if (after.ru_nvcsw > before.ru_nvcsw) break;
  }
  rlimit lim{soft, hard};
  if (setrlimit(RLIMIT_RTTIME, &lim) < 0) return ThrowErrno(env, "setrlimit", errno);
  return env.Undefined();
}

// thpDisable(): prctl(PR_SET_THP_DISABLE, 1): no transparent huge pages for this process from now on, so khugepaged
// never collapses its memory (it holds the process's mmap lock for writing meanwhile, and every page fault of every
// thread waits).
Napi::Value ThpDisable(const Napi::CallbackInfo& info) {
  if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0) return ThrowErrno(info.Env(), "prctl", errno);
  return info.Env().Undefined();
}

// clockTickUs() -> the scheduler tick in µs (1/HZ; the resolution of CLOCK_MONOTONIC_COARSE). RLIMIT_RTTIME is
// counted in ticks.
Napi::Value ClockTickUs(const Napi::CallbackInfo& info) {
  timespec r{};
  if (clock_getres(CLOCK_MONOTONIC_COARSE, &r) < 0) return ThrowErrno(info.Env(), "clock_getres", errno);
  return Napi::Number::New(info.Env(), static_cast<double>(r.tv_sec * 1000000 + r.tv_nsec / 1000));
}

// Watcher(fd, callback): calls callback() each time fd becomes readable, on the JS thread.
class Watcher : public Napi::ObjectWrap<Watcher> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Watcher",
                       {InstanceMethod("start", &Watcher::Start), InstanceMethod("stop", &Watcher::Stop),
                        InstanceMethod("close", &Watcher::CloseW)});
  }
  explicit Watcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watcher>(info) {
    Napi::Env env = info.Env();
    fd_ = info[0].As<Napi::Number>().Int32Value();
    cb_ = Napi::Persistent(info[1].As<Napi::Function>());
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    int r = uv_poll_init(loop, poll_, fd_);
    if (r < 0) {
      delete poll_;
      poll_ = nullptr;
      ThrowErrno(env, "uv_poll_init", -r);
    }
  }
  ~Watcher() override { Release(); }

 private:
  static void OnPoll(uv_poll_t* h, int status, int events) {
    Watcher* self = static_cast<Watcher*>(h->data);
    if (!self || self->cb_.IsEmpty()) return;
    Napi::Env env = self->cb_.Env();
    Napi::HandleScope scope(env);
    // MakeCallback runs the microtask queue afterwards, like any libuv-driven callback in Node.
    self->cb_.MakeCallback(env.Global(), {Napi::Number::New(env, status)});
  }
  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (poll_ && !active_) {
      int r = uv_poll_start(poll_, UV_READABLE, OnPoll);
      if (r < 0) return ThrowErrno(info.Env(), "uv_poll_start", -r);
      active_ = true;
      Ref();  // keep the JS object alive while it watches
    }
    return info.Env().Undefined();
  }
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (poll_ && active_) {
      uv_poll_stop(poll_);
      active_ = false;
      Unref();
    }
    return info.Env().Undefined();
  }
  Napi::Value CloseW(const Napi::CallbackInfo& info) {
    Stop(info);
    Release();
    return info.Env().Undefined();
  }
  void Release() {
    if (poll_) {
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
  }
  int fd_ = -1;
  bool active_ = false;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference cb_;
};

// Timer(callback): one libuv timer calling callback() on the JS thread, for the VRRP engine's deadline. Node's
// setTimeout keeps its own lists in JavaScript (a Timeout object per call, list and priority-queue upkeep on every
// arm and expiry), which at ten adverts a second runs as cold code; re-arming this one is a uv_timer_start. Active, it
// keeps the event loop alive as a Node timer does.
class Timer : public Napi::ObjectWrap<Timer> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Timer",
                       {InstanceMethod("start", &Timer::Start), InstanceMethod("stop", &Timer::Stop),
                        InstanceMethod("close", &Timer::CloseT)});
  }
  explicit Timer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Timer>(info) {
    Napi::Env env = info.Env();
    cb_ = Napi::Persistent(info[0].As<Napi::Function>());
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    timer_ = new uv_timer_t;
    timer_->data = this;
    uv_timer_init(loop, timer_);
  }
  ~Timer() override { Release(); }

 private:
  static void OnTimer(uv_timer_t* h) {
    Timer* self = static_cast<Timer*>(h->data);
    if (!self) return;
    if (self->active_) {
      self->active_ = false;
      self->Unref();
    }
    if (self->cb_.IsEmpty()) return;
    Napi::Env env = self->cb_.Env();
    Napi::HandleScope scope(env);
    // MakeCallback runs the tick and microtask queues afterwards, as Node does after a timer.
    self->cb_.MakeCallback(env.Global(), {});
  }
  // start(ms): (re)arms the timer ms from now (the loop's clock brought up to date first: the turn that arms it may
  // have run for a while); a pending expiry is replaced.
  Napi::Value Start(const Napi::CallbackInfo& info) {
    if (!timer_) return info.Env().Undefined();
    double ms = info[0].As<Napi::Number>().DoubleValue();
    uint64_t timeout = ms > 0 ? static_cast<uint64_t>(std::ceil(ms)) : 0;
    uv_update_time(timer_->loop);
    int r = uv_timer_start(timer_, OnTimer, timeout, 0);
    if (r < 0) return ThrowErrno(info.Env(), "uv_timer_start", -r);
    if (!active_) {
      active_ = true;
      Ref();  // keep the JS object alive while it is armed
    }
    return info.Env().Undefined();
  }
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (timer_) uv_timer_stop(timer_);
    if (active_) {
      active_ = false;
      Unref();
    }
    return info.Env().Undefined();
  }
  Napi::Value CloseT(const Napi::CallbackInfo& info) {
    Stop(info);
    Release();
    return info.Env().Undefined();
  }
  void Release() {
    if (timer_) {
      timer_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
      timer_ = nullptr;
    }
  }
  bool active_ = false;
  uv_timer_t* timer_ = nullptr;
  Napi::FunctionReference cb_;
};

// AdvertSender(): one thread that puts a VRRP engine's next adverts on the wire at their deadline, whatever the JS
// thread is doing then (a garbage collection, a reload's work, a page fault, TCG's slow JS). The engine decides every
// advert: after each input it arms the sender with the datagrams its timer would send at its next deadline, and it
// takes them back at its next input, learning whether they went out. One arm is one send: a JS thread that stops
// taking stops the adverts after at most one, so a hung engine does not keep claiming MASTER (as keepalived's single
// thread would not). The thread blocks every signal (they stay the main thread's) and is named kt-advert.
class AdvertSender : public Napi::ObjectWrap<AdvertSender> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "AdvertSender",
                       {InstanceMethod("arm", &AdvertSender::Arm), InstanceMethod("take", &AdvertSender::Take),
                        InstanceMethod("tid", &AdvertSender::Tid), InstanceMethod("close", &AdvertSender::CloseS)});
  }
  explicit AdvertSender(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AdvertSender>(info) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);  // the new thread inherits the mask
    thread_ = std::thread([this] { Run(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    std::unique_lock<std::mutex> lk(m_);
    done_.wait(lk, [this] { return tid_ != 0; });
  }
  ~AdvertSender() override { Stop(); }

 private:
  struct Frame {
    int fd;
    std::vector<uint8_t> data;
    sockaddr_storage sa;
    socklen_t salen;
    int flags;
    int err;
  };
  using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC, as uv_hrtime and performance.now()

  void Run() {
    prctl(PR_SET_NAME, "kt-advert");
    std::unique_lock<std::mutex> lk(m_);
    tid_ = static_cast<int>(syscall(SYS_gettid));
    done_.notify_all();
    while (!quit_) {
      if (!armed_) {
        wake_.wait(lk);
        continue;
      }
      if (Clock::now() < at_) {
        wake_.wait_until(lk, at_);
        continue;  // re-armed, taken back or due: look again
      }
      for (Frame& f : frames_) {
        ssize_t n;
        do {
          n = sendto(f.fd, f.data.data(), f.data.size(), f.flags | MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&f.sa), f.salen);
        } while (n < 0 && errno == EINTR);
        f.err = n < 0 ? errno : 0;
      }
      armed_ = false;
      sent_ = true;
      done_.notify_all();
    }
  }

  // arm(atMs, frames): replaces what is armed; atMs is CLOCK_MONOTONIC in ms; frames: [{fd, bytes, sockaddr, flags}].
  Napi::Value Arm(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    double atMs = info[0].As<Napi::Number>().DoubleValue();
    auto list = info[1].As<Napi::Array>();
    std::vector<Frame> frames(list.Length());
    for (uint32_t i = 0; i < list.Length(); i++) {
      auto o = list.Get(i).As<Napi::Object>();
      Frame& f = frames[i];
      f.fd = o.Get("fd").As<Napi::Number>().Int32Value();
      auto b = o.Get("bytes").As<Napi::Uint8Array>();
      f.data.assign(b.Data(), b.Data() + b.ByteLength());
      auto a = o.Get("sockaddr").As<Napi::Buffer<uint8_t>>();
      if (a.Length() > sizeof(f.sa)) {
        Napi::RangeError::New(env, "AdvertSender.arm: sockaddr too long").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      memset(&f.sa, 0, sizeof f.sa);
      memcpy(&f.sa, a.Data(), a.Length());
      f.salen = static_cast<socklen_t>(a.Length());
      f.flags = o.Get("flags").As<Napi::Number>().Int32Value();
      f.err = 0;
    }
    {
      std::lock_guard<std::mutex> lk(m_);
      frames_.swap(frames);
      at_ = Clock::time_point(std::chrono::nanoseconds(static_cast<int64_t>(atMs * 1e6)));
      armed_ = true;
      sent_ = false;
    }
    wake_.notify_one();
    return env.Undefined();
  }

  // take(waitMs) -> null (nothing armed or sent since the last take), false (taken back unsent: the caller sends),
  // or the errno of each frame's send (0: on the wire). With waitMs > 0 it first waits that long for the send.
  Napi::Value Take(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    double waitMs = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
    std::unique_lock<std::mutex> lk(m_);
    if (armed_ && waitMs > 0) {
      auto until = Clock::now() + std::chrono::nanoseconds(static_cast<int64_t>(waitMs * 1e6));
      done_.wait_until(lk, until, [this] { return !armed_; });
    }
    if (sent_) {
      sent_ = false;
      auto out = Napi::Array::New(env, frames_.size());
      for (uint32_t i = 0; i < frames_.size(); i++) out.Set(i, Napi::Number::New(env, frames_[i].err));
      return out;
    }
    if (!armed_) return env.Null();
    armed_ = false;
    return Napi::Boolean::New(env, false);
  }

  Napi::Value Tid(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), tid_); }

  Napi::Value CloseS(const Napi::CallbackInfo& info) {
    Stop();
    return info.Env().Undefined();
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lk(m_);
      if (quit_) return;
      quit_ = true;
      armed_ = false;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  std::mutex m_;
  std::condition_variable wake_;  // the thread waits here for an arm or its deadline
  std::condition_variable done_;  // take() and the constructor wait here
  std::vector<Frame> frames_;
  Clock::time_point at_{};
  bool armed_ = false;
  bool sent_ = false;
  bool quit_ = false;
  int tid_ = 0;
  std::thread thread_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("socket", Napi::Function::New(env, Socket));
  exports.Set("bind", Napi::Function::New(env, Bind));
  exports.Set("setsockopt", Napi::Function::New(env, SetSockOpt));
  exports.Set("getsockopt", Napi::Function::New(env, GetSockOpt));
  exports.Set("getsockname", Napi::Function::New(env, GetSockName));
  exports.Set("sendto", Napi::Function::New(env, SendTo));
  exports.Set("recvmsg", Napi::Function::New(env, RecvMsg));
  exports.Set("recvInto", Napi::Function::New(env, RecvInto));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("ifNameToIndex", Napi::Function::New(env, IfNameToIndex));
  exports.Set("ifreqIoctl", Napi::Function::New(env, IfreqIoctl));
  exports.Set("signalPipe", Napi::Function::New(env, SignalPipe));
  exports.Set("rtSignals", Napi::Function::New(env, RtSignals));
  exports.Set("gettid", Napi::Function::New(env, GetTid));
  exports.Set("schedSetScheduler", Napi::Function::New(env, SchedSetScheduler));
  exports.Set("schedGetScheduler", Napi::Function::New(env, SchedGetScheduler));
  exports.Set("mlock2", Napi::Function::New(env, MLock2));
  exports.Set("madvise", Napi::Function::New(env, MAdvise));
  exports.Set("setrlimit", Napi::Function::New(env, SetRlimit));
  exports.Set("getrlimit", Napi::Function::New(env, GetRlimit));
  exports.Set("rtGuard", Napi::Function::New(env, RtGuard));
  exports.Set("rtDemotions", Napi::Function::New(env, RtDemotions));
  exports.Set("schedSetRealtime", Napi::Function::New(env, SchedSetRealtime));
  exports.Set("clockTickUs", Napi::Function::New(env, ClockTickUs));
  exports.Set("thpDisable", Napi::Function::New(env, ThpDisable));
  exports.Set("Watcher", Watcher::Init(env));
  exports.Set("Timer", Timer::Init(env));
  exports.Set("AdvertSender", AdvertSender::Init(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(ksock, Init)
