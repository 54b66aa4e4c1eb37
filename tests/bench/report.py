"""BENCHMARKS.md and BENCHMARKS.png from bench.py's results."""
import os
import statistics
import subprocess
import tempfile

TARGETS = """\
| workload | target |
|---|---|
| (a) nginx `return 200` | traced throughput at least 95% of untraced, p99 at most 10% higher; nginx's CPU at most +0.5 us a request; the collector's at most 0.5 us a span |
| (b) nginx proxy to nginx | at least 95% of untraced |
| (c) redis-benchmark, a span per command | traced throughput at least 90% of untraced; with `-P 16` reported, no target: there redis-benchmark's own CPU is about 2 us a command, and a span (its record, ids, encoding, send, and the collector's share) costs more than a tenth of that on any machine |
| (d) instructions | at most 50 added per hooked call on a socket that is not HTTP; at most 4,000 per traced request (client and server side); per database span: no target, guarded at 10% over the baseline |
| (e) collector | at least 1,000,000 spans/s on one core into `.jsonl` |
| (f) memory | at most 2 MiB more RSS, no growth with requests, at most 512 bytes per idle tracked connection |
| (g) pgbench -S (select-only) | traced throughput at least 97% of untraced |
| (h) nginx + php-fpm over FastCGI | none: reported, traced against untraced |
| (i) transport | one process making 100,000 spans/s for 60 s loses none |
| (j) the peer: a Node.js `http` server | none: spanshim beside the OpenTelemetry Node SDK (`@opentelemetry/sdk-node`, HTTP instrumentation, batch processor, OTLP/HTTP protobuf to the collector, every span sampled; pinned in `tests/integration/sdk/package-lock.json`), alternating runs |
| (k) log capture: nginx logging a line a request | none: reported, traced with `SPANSHIM_LOGS=off` against `span` (a record a request), alternating runs; every line a record |
"""

HISTORY = """\
## What was tried

- **Collector ingest** (e): first measured at 149,000 spans/s. `perf record` showed decoding
  at 45% of the time, a third of it `malloc` and `free` for every field protobuf-c decodes:
  each datagram is now decoded into an arena that is reset, not freed field by field
  (199,000). The JSON writer appended a byte at a time and formatted numbers with
  `printf`: appends are inline, plain ASCII runs are copied whole, numbers written
  directly (292,000 and up).
- **A hooked call on a socket that is not HTTP** (d): 60 instructions. The test "is this
  fd followed" is now inlined into every hook, and the real libc function is reached by a
  load, a test and a jump, its first-call resolution moved to a cold function (41).
- **A traced request** (d): 204,000 instructions at first, nearly all in nanopb. Encoding
  a span as a submessage made nanopb encode it twice (size, then bytes), and each of its
  attributes, a KeyValue holding an AnyValue, was walked through two more descriptor
  levels, each sized and written: every byte was handled about eight times. The span is
  now encoded once into its place and the attributes are laid out with their lengths
  known up front (45,000); header values the parser only skips or copies are handled as
  runs, not byte by byte (33,000); the Span's fields are written in order instead of
  through `pb_encode`'s descriptor walk, without `printf` (23,000), then laid out
  directly into the batch buffer, nanopb keeping the resource (19,500); header names and
  the request target are runs, `tchar` a bitmap (18,900). Then, measured function by
  function with `callgrind_annotate`:
  - the parser takes what the input holds whole in one step: the version; a header name
    up to its colon, matched where it lies by OR-ing 0x20 into one or two words instead
    of being lowered into a buffer and compared with a table; a value's end eight bytes
    at a time (the lowest mark of the word test is the exact first control byte); the
    line's CR LF with it (15,600, then 11,700 with the exact word test);
  - span records reset the request head by its lengths instead of zeroing 2 KiB; ids
    drawn a word at a time; traceparent hex read and written a word at a time (14,400);
  - spans encoded from strings that carry their lengths: no copies into C strings, no
    `strlen` of keys, short copies inline, each attribute written where it is decided
    into room made for the worst case, lengths as one or two bytes, the span laid out
    behind a two-byte length so it is rarely moved (12,700, 12,300, 11,600).
- **A traced request, continued** (d), measured the same way: the shim's locks became its
  own futex mutex (Drepper's three-state one, inline): a lock/unlock pair went from about
  65 instructions through `pthread_mutex_*` to about 10, fourteen pairs a request
  (10,800); the attribute writers are inlined, so each literal key's length and copy are
  constants (9,800); traceparent read and written as 8-character words (9,650); the
  inbound-context table hashed from one word and compared by words (9,450); a request
  or status line's parts taken in one trip through the parser when the buffer holds them
  (9,100). Tried and dropped: finding a header name's end with a word test and checking
  only unknown names against `tchar` saved nothing for names of 4 to 14 bytes.
- **The collector's share** (a), (b): callgrind put it at about 22,000 instructions per
  span, half of them in protobuf-c's generic unpack (about 25 messages a span: the span,
  and a KeyValue and an AnyValue per attribute). Its JSON strings are now copied by runs a
  256-byte table finds, with no `strlen`, and numbers written two digits a division
  (about 20,000). When no sink needs the decoded batch (only `--jsonl`, as under
  `spanshim run` and in this benchmark), the JSON is written straight from the protobuf
  bytes (`col_json_wire.c`), byte for byte what decoding gives: about 8,600 a span, most
  of it the JSON itself; `bench_instructions` guards it (`collector_jsonl_per_span`).
- **What remains** per traced request, about 9,100 (client and server side, four HTTP
  messages, two spans): the HTTP/1 parser, about 3,300 (some 800 a message: header names
  checked against `tchar` a byte at a time, values copied, a state trip a header);
  encoding the two spans, about 1,500, and adding them to the batch, 400; reading and
  writing the traceparent, about 500; span records, ids and the inbound table, about
  1,000; fd lookups, queueing exchanges, the hooks and the real calls' wrappers, the rest.
  4,000 would need each cut by more than half again.
- **Why (a) was missed in the first runs, from the CPU per request**: nginx used about
  12.3 us of CPU a request untraced and 14.5 us traced (+18%: the shim's own cost, about
  2.2 us); the collector another 3.3 us a span. nginx is the bottleneck on its core:
  1/14.5 us would allow about 69,000 requests/s, but the collector, floating, spent about
  18% of a core beside it, on nginx's core or wrk's, and on two cores nothing else can
  absorb it. The shim's share alone would have put (a) near 0.85; 0.95 left 0.65 us a
  request for the shim and the collector together, less than the collector alone then.
  (b) and (c) met in that run, both within the machine's run-to-run noise of their
  targets.
- **A database span** (d), measured as a Redis GET and its reply and as pgbench -S's query
  and its reply: 11,200 and 16,300 instructions at first. Redis: a command's name was
  looked up in some 70 names with `strcasecmp` (3,200 a command), and the operation,
  namespace, query text and span name were copied with `snprintf` (3,000): names are now
  compared only when their first letters match but for case, and copied directly (6,300,
  then 5,000 with the span's name). PostgreSQL: the SQL tokenizer compared each word of the
  query with the keywords it looks for, some 200 comparisons each through a `strlen` of the
  keyword (5,000): keywords are compared as they go, their first byte inline, and a list
  passes over those of another first letter (9,500). What remains of the Redis span, about
  5,000: the follower 2,500 (reading the command 1,500, of which the name's look-up 500; the
  reply and the operation 1,000), the core (span record, ids, queue, the send path) 1,150,
  encoding 700, libc and the hooks 800. Of the PostgreSQL span, about 9,500: the SQL
  tokenizer and summary 4,800 (tokenizing 2,100, keyword lists 1,500), the follower 1,850,
  the core 1,150, encoding 700, libc (copying the operation into the span) 1,000.
- **The Redis span again** (d): 4,950 to 3,300 instructions. A command's name is looked up
  in one table through a hash of its length and first and last letters (a chain of at most
  two; 700 before, some 40 now); an array's count, each bulk string, and a reply's line or
  number and payload are read in one step when whole in the buffer (the byte-at-a-time
  reader still takes splits and says what is wrong with bad input); a key is copied a word
  at a time while its bytes are printable; a command is written into the FIFO slot it takes;
  the follower fills the span's own operation record (`op_for` in ss_db.h), so neither the
  1 KiB record is cleared nor copied (PostgreSQL's is still copied whole: field by field
  cost its longer strings more); ids check their seed once an id. What remains, about
  3,300: the follower 950, encoding 700 (the database attributes 370), the span record and
  its queue 560, the hooks, the send path and libc 1,100. By callgrind redis-benchmark
  `-t get` costs 3,150 instructions a command of its own and the shim 3,500 (5,350 before),
  and cachegrind 31 more first-level data cache misses a command (45 before). Throughput
  did not follow: 28 alternating runs (`-n 200000 -c 10 -t get`, pinned as in (c)) in five
  sets, on this machine loaded by other work, measured traced/untraced medians of 0.74 to
  0.80, and main's shim beside it 0.72 to 0.79, within the noise: the rest of the cost is
  not the shim's instruction count, and was not measured apart (no hardware counters here).
- **The Redis span, third pass** (d): 3,300 to 2,560 instructions, measured with
  callgrind and no wall clock (the machine was shared). The parser reads a whole plain
  command and its commonest replies (a bulk string, null, an integer, `+OK`) in one step
  and fills the operation record with whole-array copies (3,300 to 2,960); then the core:
  a client write with nothing to splice goes out as the program's own iovec, counted as
  sent before the call, with one lock pair fewer; the fd lookup, the receive and send
  paths inlined; both ids of a new trace drawn in one call; a span encoded straight into
  the batch under its lock; a string attribute whose lengths each take one byte written
  after one test (2,960 to 2,560; a traced HTTP request 9,870 to 9,265, PostgreSQL's span
  9,390 to 8,960). By callgrind, redis-benchmark `-t get` now costs about 3,900
  instructions a command of its own and the shim about 2,200 more. Throughput still
  misses 90%: in the run above the client's CPU goes from 12.8 to 15.1 us a command and
  the collector takes 2.2 us a span on the same two cores (0.761); with no collector
  (`SPANSHIM_SOCKET` pointing nowhere) 5 alternating runs gave 0.88 and 0.89 (GET, SET),
  on a machine still loaded by other work.
- **The protocol-neutral core** (d): a traced HTTP request measured 9,470 instructions
  just before it and 9,850 after, in builds alike (9,890 to 9,930 in a build with the
  tests; the baseline's 9,126 is older; it is kept, not renewed). Compared function by
  function, the 380 to 460 are calls across the new module boundaries, none large: the
  span's encoding split into a common part and the protocol's, reached through a table
  (about 110), feeding each direction through the protocol's interface (110), the queue's
  `forget` call, the HTTP module's finish and span wrappers and the serving context (150),
  references dropped through a call into the fd table (50). Per connection (connect,
  accept and one request, client and server side) the core costs about 1,300 more:
  allocating and freeing each connection's protocol state (680 in malloc), detection (the
  table walk, HTTP/2's then HTTP/1's test, 300), the rest per request. Detection now shows
  a direction's first bytes to the modules where they lie and copies them only when they
  do not decide (40 a connection). Inlining across the modules (link-time optimization) or
  a small state area inside the connection would take back most of it; neither is a small
  change.
- **Database clients** (c), (g), the shim on the client only. pgbench -S meets 97%
  (0.975): its server, on the other core, is the bottleneck; pgbench's CPU grows from 13.2
  to 14.6 us a transaction (the shim's 9,450 instructions a query) and the collector's
  1.65 us a span runs on the cores the two use. redis-benchmark misses 90% by cost: it is
  the bottleneck on its core (11.7 us of CPU a command untraced, about 1/84,500 s), and
  the shim adds 2.7 us a command (14.4): callgrind counts 4,950 instructions, about 1 us;
  the rest is presumably the cache footprint of a span record a command and the collector
  (1.7 us a span) sharing the two cores, not measured apart: 0.744. With `-P 16` its own
  cost is 0.8 us a command, the shim adds 0.95 (1.75), and the collector, at 1.5 us a
  span, falls behind at up to 490,000 spans/s: 9,150 of 1,000,000 spans dropped (the
  collector's socket full, counted as such): 0.321. 90% would leave the shim at most 1.3
  us a command without pipelining and 0.09 us (a few hundred instructions) with it; a
  span's record, ids, encoding and send alone take more than 2,000 instructions. A run on
  the same machine loaded by other work (load average 4 to 7) had traced runs faster than
  untraced ones in every workload (ratios 1.5 to 1.7): there the ratios measured the
  machine; CPU per operation agreed with this run's.
- **The transport** (i): one process making 100,000 spans/s for 60 s first lost 147 of
  6,000,000 (the collector's socket full). The kernel queues at most
  `net.unix.max_dgram_qlen` datagrams on a Unix socket (10; only root may change it), and
  a datagram counts against its sender's buffer until it is read: the default 208 KiB held
  six half-full batches, so a collector not scheduled for some 10 ms on the two shared
  cores found a batch without room, and it was dropped. A batch the socket cannot take now
  waits in a backlog of up to 32 (mapped when first needed) while a new one fills, and
  the flush thread sends it as soon as the socket takes datagrams again, up to four in one
  datagram; the export socket asks for 1 MiB; the collector empties its socket with
  `recvmmsg`. Then: none lost of 6,000,000, the collector at 2.1 us of CPU a span. With
  the collector stopped for 50 ms every second (`shim_rate.py 100000 15 50`), main lost
  4.4% and now none; for 100 ms, 8.9% and now 1.2% (the kernel's queue and the backlog
  hold about 60 ms at that rate).
- **The collector's share, again** (a), (c), (e), issue 19, measured apart from a whole
  run (the table above is older): real shim datagrams captured from (a) (nginx SERVER
  spans, 89 a datagram of about 31 KB) and (c) (redis-benchmark CLIENT spans, 103 a
  datagram of the same size), callgrind over 50 and 250 of them, instructions a span written
  to `.jsonl`: nginx 10,070 to 4,140, Redis 8,830 to 3,640 (`bench_instructions`' crafted
  batch 8,562 to 3,497). Before, for nginx: the string writer 2,490, reading fields 1,240
  and finding them 900, the attribute loop 1,375, numbers 940, `memcpy` 850 (a
  `col_buf_put` a piece, and the queue's copy of each datagram, 350), keys through `strlen`
  830, hex 300. Now each span's fields and each attribute are written into room made once
  (`col_jout.h`), not checked piece by piece; strings are checked 16 bytes a step with SSE2
  (as signed bytes, controls and bytes past ASCII are both below 0x20; 4 to 15 bytes in one
  check of the first and last 8, or 4); numbers go in 8-digit groups of 32-bit arithmetic,
  ids in hex 8 bytes a step; one-byte tags and one- or two-byte varints are read inline.
  After, for nginx: finding the fields 1,100, the attribute loop 1,810 (its strings about
  500), the span's own fields 650, the queue's copy 350. Forwarding alone (no `--jsonl`)
  wrote each batch's JSON only to count its spans: it now reads it through (1,840 a span
  against 3,780). In time, `collector_rate.py --against` main's collector, 5 alternating
  runs of 1,000,000 spans each on a machine shared with other work (load average 14):
  694,000 spans per CPU second against 463,000 (user 0.65 us a span against 1.53, system
  0.81 against 0.64), 169,000 spans/s against 119,000 by the clock (not comparable with the
  435,000 of the whole run). The system part (receiving, and appending some 800 bytes a span
  to a file on ext4; to `/dev/null` about half) is now the larger: 1,000,000 spans/s into a
  file would need each below 0.5 us. In the workloads, traced only, the two collectors in
  turn, 3 rounds: (a) 3.03 to 1.75 us of collector CPU a span, (c) 2.80 to 1.70. (c) costs
  what (a) does, not more: its datagrams are as full, its spans cheaper to write; what
  separates both from the cost measured at full rate is that each datagram is handled after
  a sleep, its code and tables out of the caches (fed 450 datagrams a second, the rate of
  (a), user time a span doubles: 1.5 us against 0.75). Taking datagrams a few at a time
  (waiting 10 ms after a wake-up that found little) made no difference measurable on this
  machine, and was dropped. Neither target is met: 0.5 us a span in (a), 1,000,000 spans/s.
- **The Redis span, fourth pass** (d): 2,693 to 2,417 instructions, main's shim (af73db3)
  and this one measured the same day by `instructions.py` (a traced HTTP request 9,472 to
  9,293, a PostgreSQL span 9,092 to 8,842; the other rows unchanged). By callgrind, traced minus
  untraced, one component at a time (a function's own instructions, where its source
  lies):

  | component | before | after |
  |---|---|---|
  | reading the command (`ss_redis_cmd.c`) | 336 | 341 |
  | the reply, its operation and the span's end (`ss_redis.c`, `ss_db_conn.c`, finish) | 476 | 494 |
  | encoding and batching (`ex_otlp*.c`, `ex_batch.c`, `strlen`, `memcpy`) | 752 | 567 |
  | span record, ids, clock, sampling, stacks (`ss_span.c`, `ss_id.c`...) | 376 | 289 |
  | hooks, fd table, connection core, send path (`hk_*.c`, `ss_fd.c`, `ss_conn.c`, `ss_send.c`) | 540 | 510 |
  | libc around the real calls (the socket calls' cancellation points, `errno`) | 206 | 205 |
  | total (with the benchmark's own 8) | 2,693 | 2,414 |

  What changed: a database connection's attributes that every span of it has alike
  (`db.system.name`, `db.namespace`; `server.*`, `network.peer.*`) are encoded once, as
  the protobuf bytes the encoder writes for them, made again when the system or the
  namespace changes, and copied into each span (the unit conversations check every
  database span to encode the same field by field); one clock read a receive, the end of
  what ends in it and the stack check's time (four reads a span before: start, stack
  check, end, and the batch's age, now taken from the spans' ends); a database span's
  record taken without resetting HTTP's part; ids from wyrand (one word of state, a
  multiplication a word) instead of xoshiro256\\*\\*; the clock read, the default sampler's
  decision, feeding a send's bytes and the command's hand-over inlined; strings of 1 to
  3 bytes copied as three stores; db.operation.name measured once. The guard itself:
  under callgrind an exchange can take the 100 ms of `SPANSHIM_STACK_MIN_MS`, and a stack
  captured in one of the two run sizes counted some 600,000 instructions as the
  operations' (a Redis span read 3,100 in one run): traced runs now set the threshold out
  of reach. Tried and dropped: link-time optimization (the link fails on the hooks'
  `dlopen` wrapper's hidden symbol); the Redis report inlined where replies complete (7
  more); reading a whole command straight into its FIFO slot saved nothing measurable. 1,300
  was not reached: no step costs more than about 350 instructions, and about 30 calls a
  span across the module boundaries cost 8 to 16 each to enter and leave. The libc row
  is the flush thread's: in a process with a second thread every `recv` and `send` enters
  and leaves glibc's cancellation mode (about 30 instructions a call).
  Throughput could not be measured: the machine ran at a load average of 12 to 13 (other
  work), untraced `redis-benchmark -n 20000 -c 10 -t get,set` at 2,800 to 5,600 commands/s
  (about 80,000 when the machine is quiet), and every traced run, this shim's and
  main's alike, was faster than the untraced one before it (ratios 1.1 to 3.5, 5 rounds;
  with `-P 16`, 3 rounds, 1.0 to 3.4): those runs measured the machine. The client's own
  CPU a command, medians of the same rounds: untraced 24.2 us, this shim 26.4 us, main's
  27.2 us (each spread over 5 to 8 us).
- **The collector's system time** (e), issue 19: `collector_rate.py` measured 476,000
  spans/s on a freshly booted machine, user 0.45 us a span and system 1.40. `perf record`
  (cpu-clock) of the collector: 72% of its time in the kernel's `copy_folio_from_iter_atomic`,
  copying each line into the page cache. The copy is slow only the first time a page is
  used: on this virtual machine the guest's first write to memory it never touched costs a
  fault in the host. `dd` of 1.4 GB to tmpfs: 3.1 s of system time the first time, 0.5 s
  the second; to ext4 1.0 s, then 0.6 s. With the page cache warmed (a file of the run's
  size written and removed first) the same collector wrote 1,190,000 to 1,440,000 spans/s,
  user 0.32 to 0.42 us a span and system 0.36 to 0.41: the target's 1,000,000 is met as a
  collector that has run for a while sees it. `collector_rate.py` now warms the page cache
  before it measures, and reports the unwarmed run beside it. `strace -c` of 3,000
  datagrams also showed one `lseek` a batch (the line's start, needed only to undo a write
  cut short) and some 1,900 `mprotect` calls (the receiving thread's malloc arena growing
  and shrinking with each datagram's copy).
- **Log capture** (k), (d), issue 18, first measured in a run of (k) alone (`bench.py
  --only k`, 5 runs of 5 s, on a machine shared with other work, load average 1.2 to 1.8):
  nginx answering a request for a missing file, an error line a request, traced with
  `SPANSHIM_LOGS=off` and `span` in turn: 68,501 and 54,619 requests/s (0.797; runs of
  57,000 to 95,000 and 48,000 to 74,000), nginx's CPU 10.64 and 13.24 us a request (+2.60),
  the collector's 0.84 and 1.68 (+0.84 a record, written to /dev/null), 1,562,703 records
  for 1,562,660 requests (lines of requests wrk had not finished when it stopped). By
  callgrind a record is about 2,100 instructions (`http_per_request_log_span` against
  `..._log_off`); the rest of nginx's 2.6 us is not measured apart (the `getpid` a captured
  write makes, the logs datagrams' sends, the cache footprint of the stream and the batch).
  A `--quick` run of the same just before it measured +0.0 us (2 runs of 2 s): the
  figure wants a whole run on a quiet machine.
- **What the misses of the run of b28654a are made of** (a), (c), issues 19 and 14, measured
  apart the same day, the machine quiet (it ran twice as fast as in the run before, whose
  untraced redis-benchmark made 72,543 commands/s: every CPU figure halved with it).
  (a): nginx's CPU (+0.35 us a request) and the collector's (0.28 us a span) meet their
  targets; its throughput (0.935) and p99 (1.6 times untraced) do not. What delays
  requests is most likely the collector's turn: it writes a datagram's spans (about 330
  at 0.28 us, some 90 us) at once, and on two cores that turn holds up whichever of wrk
  and nginx shares its core. Pinned to wrk's core instead of floating, p99 was 0.16 to
  0.20 ms and throughput 0.903.
  The send itself is not it: a 100 KB datagram to the collector's socket takes 11 us
  timed in the sender (`strace -T` had said 60 to 90, its own stops counted). Batches of
  24 KB (a 48 KiB `EX_BATCH_MAX`) took p99 from 0.145 to 0.117 ms (untraced 0.081), the
  collector's turns shorter, but doubled its CPU a span (0.30 to 0.66 us) and lowered
  throughput (0.88); the collector under `SCHED_BATCH`, which never preempts on a
  wake-up, made p99 worse (0.20 to 0.26 ms): it then ran longer at a time. Tried and
  dropped: handing a half-full batch to the flush thread to send while a second buffer
  fills. On the one core the benchmark gives nginx, its threads and the shim's alike,
  nothing changed: p99 0.147 to 0.172 ms against 0.135 to 0.160 inline, throughput 0.939
  against 0.934; with the flush thread at nice 19, a batch it had not sent yet when the
  next filled went inline with it, and p99 rose to 0.19 ms. Nor the collector yielding
  its core every 32 spans it writes: throughput 0.953, but p99 0.11 to 0.25 ms from run to
  run and the collector behind (0.21 us of its CPU a request in the untraced runs after
  the traced ones, catching up). Apart, the sender paced and the collector floating, a
  datagram costs the collector 6 us with one span, 19 us with 82 and 58 us with 330: its
  turn is its spans. Next: the collector's cost a span, the length of that turn (3,495
  instructions a span written as JSON in the run; 3,362 since its wire walk reads an
  attribute run in a loop of its own). (c): redis-benchmark is the bottleneck on its core
  (6.5 us of CPU a command, nine tenths of it in the kernel); the shim adds 0.72 us a
  command and the collector's 0.25 us a span runs beside it on the two cores: 0.866 in the run, 0.887 to 0.910 in runs of (c) alone (6 alternations each).
  By callgrind the shim adds about 2,200 instructions a command: reading the command and
  the reply 300, the span's record, ids, queue and end 450, the database part (the
  operation, the connection's encoded attributes) 300, encoding and batching 600, the
  two hooked calls and the connection core 525; cachegrind counts 38 more first-level
  data misses a command (the ten connections' state and span records, visited in turn).
  Taken apart in runs of (c) alone: every span sampled out (`OTEL_TRACES_SAMPLER=
  always_off`: nothing encoded or sent) 0.927 to 0.944; no collector listening 0.917; the
  Redis follower left out (its connections passed through as opaque) 1.008; `-Os`
  0.864. No step costs more than 300 instructions: 90% wants the per-command path
  rebuilt (one lock and one pass over the connection a call, a span record whose hot
  fields share a few cache lines, encoding from the follower's record), not another cut.
- **A datagram, one wake-up** (issue 19, (a)). The collector's main thread now reads the
  shims' socket itself while it keeps up and writes each datagram where it read it; its
  receiving thread stands in, into the queue, only while a sink has held the main thread
  10 ms without a pause, and at a stop. Before, every datagram woke two threads (the
  receiver's poll, then the main thread's condition) and was copied once into the queue:
  2.5 voluntary context switches a datagram, 1.1 now (test_collector). On this 2-vCPU
  virtual machine a wake-up costs more than a datagram's copy: side by side with the
  build before (nginx `return 200` as in (a), 4 alternations, a collector writing no
  file), the collector's CPU went from 0.17 to 0.11 us a span, traced throughput from
  0.936 to 0.962 of untraced and p99 from 1.36 to 1.20 times untraced. Writing `.jsonl`
  as in (a), the JSON a larger part of its turn, in two such comparisons of 5
  alternations: 0.24 and 0.28 us a span against 0.19 and 0.19, throughput 0.925 and
  0.914 against 0.934 and 0.942, p99 1.70 and 1.84 against 1.60 and 1.60; nginx's own
  CPU the same (+0.39 us a request both). `scripts/bench --only a,b,c` then made 0.954;
  the whole run above (e2f9440), on a machine some 4% slower (untraced nginx at 4.36 us
  a request against 4.22 in the run before), 0.926, its nginx at +0.54 us. Unchanged:
  redis-benchmark (0.886 against 0.884, and 0.894 against 0.908: within its spread) and
  the flood of (e) (2.27 million spans/s both: there the receiving thread stands in).
  Smaller shim batches, tried again with this collector: 32 KiB datagrams (a 64 KiB
  `EX_BATCH_MAX`) took (a)'s p99 from 1.68 to 1.20 times untraced, but its throughput
  from 0.937 to 0.914, though the collector's CPU a span rose only from 0.19 to 0.21 us:
  nginx pays for waking the collector three times as often. Waking the collector on a
  timer instead (every 0.2 or 1 ms while datagrams come, no wake-up from the sender) was
  worse: 0.54 and 0.26 us a span, throughput 0.83 and 0.91. The collector at nice 10:
  p99 1.93, throughput 0.956 (it ran later, in longer turns, and caught up in the
  untraced runs). Left as they were. What is left of p99 is the collector's turn: a
  datagram's 330 spans at 0.19 us, some 60 us at a time on a core wrk or nginx needs, 4%
  of the time.
- **Why (c) moves by 5% from run to run** (issue 14). redis-benchmark is pinned to CPU 0
  and the server to CPU 1, which idles between commands, and how the virtual machine's
  idle CPU is woken (the `haltpoll` idle driver) weighs as much as the shim's
  instructions. Measured in alternation on one day: untraced 150,000 to 159,000
  commands/s; with `/dev/cpu_dma_latency` held at 0 (idle CPUs poll instead of halting,
  as tuned's latency-performance profile does) untraced rose to 170,000, and traced
  (today's 200 KiB batches) was 0.906 to 0.908, against 0.852 to 0.905 without. A
  stand-in preload that burns the shim's own user time (+0.35 us a command, a loop in
  `send`) cost 4.6%, its system time unchanged; the shim cost 10%, with 0.3 to 0.4 us
  more system time a command in redis-benchmark, which was gone (5.45 against 5.48 us)
  with idle CPUs polling: that part is not the shim's instructions. The same effect made
  16 and 32 KiB batches look better for (c) (0.943 to 0.959: the collector busier on CPU
  1, which halted less); with idle CPUs polling they were no better (0.889), and with a
  bare receiver in place of the collector, worse (0.859): not the shim's gain, not
  taken. `OTEL_TRACES_SAMPLER=always_off` (nothing encoded or sent) made 0.917 to 0.931:
  the follower and the span records are most of the shim's cost here, as the profile
  above says.
"""


def ratio(t, u):
    return t / u if u else 0


def logs_d_rows(d):
    """(d)'s rows of log capture, by callgrind (instructions.py: opbench
    httplog, a traced request whose server writes a line to stderr while it
    serves it)."""
    if "http_per_request_log_off" not in d:
        return []
    return ["| (d) instructions per traced request whose server logs a line, SPANSHIM_LOGS off / "
            "span (the line a record in its span) | %s | +%.0f / +%.0f | | | |" % (
                "%.0f (the program's own)" % d["httplog_untraced_per_op"]
                if "httplog_untraced_per_op" in d else "",
                d["http_per_request_log_off"], d["http_per_request_log_span"]),
            "| (d) instructions per log record captured (span minus off) | | +%.0f | | | |" % (
                d["http_per_request_log_span"] - d["http_per_request_log_off"])]


def logs_rows(r):
    """(k)'s rows: the same nginx, traced, with capture off (in the untraced
    column) and span (in the traced one)."""
    k = r["k"]
    off, on = k["off"], k["span"]

    def m(v, key):
        return statistics.median(x[key] for x in v)

    lines = ["| (k) nginx logging a line a request, requests/s: `SPANSHIM_LOGS` off / span "
             "| %.0f | %.0f | %.3f | | |" % (m(off, "rps"), m(on, "rps"),
                                            ratio(m(on, "rps"), m(off, "rps")))]
    for p in ("p50", "p99"):
        lines.append("| (k) %s latency, ms, off / span | %.3f | %.3f | %.3f | | |" % (
            p, m(off, p), m(on, p), ratio(m(on, p), m(off, p))))
    lines.append("| (k) nginx CPU per request, us, off / span (the record's) | %.2f | %.2f | %+.2f | | |" % (
        m(off, "cpu_us"), m(on, "cpu_us"), m(on, "cpu_us") - m(off, "cpu_us")))
    lines.append("| (k) collector CPU per request, us, off / span (the record's, written to "
                 "/dev/null) | %.2f | %.2f | %+.2f | | |" % (
                     m(off, "collector_us"), m(on, "collector_us"),
                     m(on, "collector_us") - m(off, "collector_us")))
    ok = k["records"] >= k["requests_span"]
    lines.append("| (k) log records received / requests with capture on (warm-up included) | | "
                 "%d / %d | | one each | %s |" % (k["records"], k["requests_span"],
                                                  "yes" if ok else "**no**"))
    return lines


def logs_runs(r):
    k = r["k"]
    return ["- (k) nginx logging a line a request, SPANSHIM_LOGS=%s: requests/s %s; p99 ms %s; "
            "nginx CPU us/request %s; collector CPU us/request %s" % (
                mode, md_runs(k[mode], "rps", "%.0f"), md_runs(k[mode], "p99", "%.3f"),
                md_runs(k[mode], "cpu_us", "%.2f"), md_runs(k[mode], "collector_us", "%.2f"))
            for mode in ("off", "span")]


LOGS_HOW = ("- (k): `wrk -t1 -c10` as in (a) asking nginx (one worker, on CPU 1) for a file it does "
            "not have: a 404 and one `open() ... failed` line a request in its error log "
            "(`error.PORT.log`, a log file by `SPANSHIM_LOG_FILES`' default `*.log`, written while "
            "the request's SERVER span is current; an access log line is written after the "
            "span's end, which `span` leaves out). Two nginx, both traced, to a collector of "
            "their own writing `--jsonl` and `--logs-jsonl` to /dev/null: one with "
            "`SPANSHIM_LOGS=off`, one with `span` (each line a record in its request's span), in "
            "turn. CPU per request as in (a); the log records received are the collector's exit "
            "line's, against the requests the `span` nginx answered.")


def partial(r):
    """The rows of a partial run (bench.py --only): the workloads that have
    rows of their own, the others' figures being in the saved JSON."""
    lines = ["Partial run (%d runs of %d s): BENCHMARKS.md is not written." % (
        r["runs"], r["seconds"]), "",
             "| workload | untraced | traced | ratio | target | met |", "|---|---|---|---|---|---|"]
    if "k" in r:
        lines += logs_rows(r)
    if "d" in r:
        lines += logs_d_rows(r["d"])
    lines.append("")
    if "k" in r:
        lines += logs_runs(r)
    rest = sorted(set(r) - {"machine", "runs", "seconds", "k", "d", "stack_ns"})
    if rest:
        lines.append("- %s: in the saved JSON (rows of their own only in a whole run)" %
                     ", ".join(rest))
    return lines


def md_runs(res, key, fmt):
    return " / ".join(fmt % r[key] for r in res)


def write(r, root):
    lines = ["# Benchmarks", "",
             "Produced by `scripts/bench` (which installs what it needs, builds, runs every "
             "workload traced and untraced side by side, alternating, %d runs of each, and "
             "takes medians). Machine: %s. Build: `RelWithDebInfo` (`-O2 -g`)." % (r["runs"], r["machine"]),
             "", "![throughput and latency, traced vs untraced](BENCHMARKS.png)", "",
             "## Targets", "", TARGETS, "## Results", "",
             "| workload | untraced | traced | ratio | target | met |", "|---|---|---|---|---|---|"]
    verdict = {}

    scores = []  # (name, measured / target, as the chart shows it)

    def row(name, u, t, rat, target, ok, score=None):
        verdict[name] = ok
        if score is not None:
            scores.append((name, score))
        lines.append("| %s | %s | %s | %s | %s | %s |" % (name, u, t, rat, target, "yes" if ok else "**no**"))

    for key, label, need in (("a", "(a) nginx `return 200`, requests/s", 0.95),
                             ("b", "(b) nginx proxy to nginx, requests/s", 0.95),
                             ("h", "(h) nginx + php-fpm (FastCGI), requests/s", None)):
        u, t = r[key][False], r[key][True]
        ur, tr = statistics.median(x["rps"] for x in u), statistics.median(x["rps"] for x in t)
        if need is None:
            lines.append("| %s | %.0f | %.0f | %.3f | | |" % (label, ur, tr, ratio(tr, ur)))
        else:
            row(label, "%.0f" % ur, "%.0f" % tr, "%.3f" % ratio(tr, ur), ">= %.2f" % need,
                ratio(tr, ur) >= need, ratio(tr, ur) / need)
        for p in ("p50", "p99"):
            um, tm = statistics.median(x[p] for x in u), statistics.median(x[p] for x in t)
            if key == "a" and p == "p99":
                row("(a) p99 latency, ms", "%.3f" % um, "%.3f" % tm, "%.3f" % ratio(tm, um), "<= 1.10",
                    ratio(tm, um) <= 1.10, 1.10 / ratio(tm, um) if tm else 0)
            else:
                lines.append("| (%s) %s latency, ms | %.3f | %.3f | %.3f | | |" % (key, p, um, tm, ratio(tm, um)))
        if "cpu_us" in u[0]:
            uc, tc = statistics.median(x["cpu_us"] for x in u), statistics.median(x["cpu_us"] for x in t)
            cc = statistics.median(x["collector_us"] for x in t)
            if key == "a":
                row("(a) nginx CPU per request, us", "%.2f" % uc, "%.2f" % tc, "+%.2f" % (tc - uc),
                    "<= +0.5", tc - uc <= 0.5, 0.5 / (tc - uc) if tc > uc else 2)
                row("(a) collector CPU per span, us", "", "%.2f" % cc, "", "<= 0.5", cc <= 0.5,
                    0.5 / cc if cc else 2)
            else:
                lines.append("| (%s) %s CPU per request, us | %.2f | %.2f | %.3f | | |" % (
                    key, "nginx and php-fpm" if key == "h" else "nginx", uc, tc, ratio(tc, uc)))
                lines.append("| (%s) collector CPU per request, us | | %.2f | | | |" % (key, cc))

    def db_rows(key, label, short, unit, ops, need):
        """A database client's throughput, its CPU and the collector's per
        operation, and the spans its shim exported against the operations."""
        u, t = r[key][False], r[key][True]
        ur, tr = statistics.median(x["rps"] for x in u), statistics.median(x["rps"] for x in t)
        if need is None:
            lines.append("| %s, %s | %.0f | %.0f | %.3f | | |" % (label, unit, ur, tr, ratio(tr, ur)))
        else:
            row("%s, %s" % (label, unit), "%.0f" % ur, "%.0f" % tr, "%.3f" % ratio(tr, ur),
                ">= %.2f" % need, ratio(tr, ur) >= need, ratio(tr, ur) / need)
        uc, tc = statistics.median(x["cpu_us"] for x in u), statistics.median(x["cpu_us"] for x in t)
        lines.append("| %s client CPU per %s, us | %.2f | %.2f | %.3f | | |" % (
            short, ops[:-1], uc, tc, ratio(tc, uc)))
        lines.append("| %s collector CPU per %s, us | | %.2f | | | |" % (
            short, ops[:-1], statistics.median(x["collector_us"] for x in t)))
        sent = sum(x["spans"] for x in t)
        done = sum(x.get("commands", x.get("transactions", 0)) for x in t)
        dropped = sum(x["dropped"] for x in t)
        lines.append("| %s spans exported / %s (all traced runs) | | %d / %d | | one each | %s |" % (
            short, ops, sent, done, "yes" if sent >= done and dropped == 0 else
            "**no** (%d dropped)" % dropped))

    db_rows("c", "(c) redis-benchmark GET+SET, a span per command", "(c)", "requests/s", "commands",
            0.90)
    db_rows("c16", "(c) redis-benchmark -P 16 GET+SET, a span per command", "(c) -P 16", "requests/s",
            "commands", None)
    db_rows("g", "(g) pgbench -S, a span per query", "(g)", "transactions/s", "transactions", 0.97)
    d = r["d"]
    row("(d) instructions per hooked call, not HTTP", "%.0f (libc's own)" % d["opaque_untraced_per_op"],
        "+%.0f" % d["opaque_per_call"], "", "<= 50", d["opaque_per_call"] <= 50,
        50 / d["opaque_per_call"] if d["opaque_per_call"] > 0 else 2)
    row("(d) instructions per traced request", "%.0f (the program's own)" % d["http_untraced_per_op"],
        "+%.0f" % d["http_per_request"], "", "<= 4,000", d["http_per_request"] <= 4000,
        4000 / d["http_per_request"])
    if "http_per_request_full_heads" in d:
        lines.append("| (d) instructions per traced request with a browser's and nginx's heads (13 headers "
                     "no span reads) | %.0f (the program's own) | +%.0f | | | |" % (
                         d["httpfull_untraced_per_op"], d["http_per_request_full_heads"]))
    for key, label in (("redis", "(d) instructions per Redis span (a GET and its reply)"),
                       ("pg", "(d) instructions per PostgreSQL span (a simple query and its reply)")):
        lines.append("| %s | %.0f (the program's own) | +%.0f | | | |" % (
            label, d[key + "_untraced_per_op"], d[key + "_per_span"]))
    if "stack_capture" in d:
        lines.append("| (d) instructions per traced request, SPANSHIM_STACKS off / all (default slow above) "
                     "| | +%.0f / +%.0f | | | |" % (d["http_per_request_stacks_off"],
                                                  d["http_per_request_stacks_all"]))
        lines.append("| (d) code.stacktrace: one capture (15 frames deep), naming 8 frames from the cache "
                     "| | %.0f, %.0f instructions | | | |" % (d["stack_capture"], d["stack_text_cached"]))
    if "stack_ns" in r:
        lines.append("| code.stacktrace, wall clock: a capture; naming 8 frames the first time; again "
                     "| | %.2f us; %.0f us; %.2f us | | | |" % (
                         r["stack_ns"]["capture_ns"] / 1e3, r["stack_ns"]["text_first_ns"] / 1e3,
                         r["stack_ns"]["text_again_ns"] / 1e3))
    if "unselected_per_call" in d:
        lines.append("| (d) system-wide mode, a program preload.conf does not select: per hooked call; "
                     "once at start (the loader mapping the shim, the file read) "
                     "| | +%.0f; +%.0f instructions | | | |" % (d["unselected_per_call"],
                                                           d["unselected_startup"]))
    if "collector_jsonl_per_span" in d:
        lines.append("| (d) collector instructions per span written to .jsonl | | %.0f | | | |" % (
            d["collector_jsonl_per_span"]))
    lines += logs_d_rows(d)
    if "j" in r:
        j = r["j"]
        u = {k: statistics.median(x[k] for x in j["untraced"]) for k in ("rps", "p99", "cpu_us", "rss_kib")}
        for v, label in (("spanshim", "spanshim"), ("sdk", "the OpenTelemetry Node SDK")):
            t = {k: statistics.median(x[k] for x in j[v]) for k in ("rps", "p99", "cpu_us", "rss_kib",
                                                                     "collector_us")}
            lines.append("| (j) Node.js `http` server under %s, requests/s | %.0f | %.0f | %.3f | | |" % (
                label, u["rps"], t["rps"], ratio(t["rps"], u["rps"])))
            lines.append("| (j) p99 latency, ms | %.3f | %.3f | %.3f | | |" % (
                u["p99"], t["p99"], ratio(t["p99"], u["p99"])))
            lines.append("| (j) server CPU per request, us (collector's) | %.1f | %.1f (%.2f) | +%.1f | | |" % (
                u["cpu_us"], t["cpu_us"], t["collector_us"], t["cpu_us"] - u["cpu_us"]))
            lines.append("| (j) server RSS, MiB | %.1f | %.1f | +%.1f | | |" % (
                u["rss_kib"] / 1024, t["rss_kib"] / 1024, (t["rss_kib"] - u["rss_kib"]) / 1024))
        added = {v: statistics.median(x["cpu_us"] for x in j[v]) - u["cpu_us"] for v in ("spanshim", "sdk")}
        lines.append("| (j) added CPU per request, the SDK's over spanshim's | | %.1f | | | |" % (
            added["sdk"] / added["spanshim"] if added["spanshim"] > 0 else float("inf")))
    if "k" in r:
        lines += logs_rows(r)
    e = statistics.median(x["spans_per_second"] for x in r["e"])
    row("(e) collector, spans/s on one core into .jsonl", "", "%.0f" % e, "", ">= 1,000,000",
        e >= 1000000, e / 1000000)
    if "unwarmed_spans_per_second" in r["e"][0]:
        lines.append("| (e) the same, the page cache not warmed first | | %.0f | | | |" % statistics.median(
            x["unwarmed_spans_per_second"] for x in r["e"]))
    i = r["i"]
    row("(i) transport, spans dropped of spans sent at %.0f/s for %.0f s" % (i["rate"], i["seconds"]),
        "", "%d of %d (%d received)" % (i["spans_dropped"], i["spans_sent"], i["spans_received"]),
        "", "0", i["spans_dropped"] == 0 and i["spans_received"] == i["spans_sent"],
        1 if i["spans_dropped"] == 0 and i["spans_received"] == i["spans_sent"] else 0)
    lines.append("| (i) collector CPU, us per span | | %.2f | | | |" % (
        i["collector_cpu_seconds"] * 1e6 / max(i["spans_received"], 1)))
    f = r["f"]
    more = (f[True]["all"] - f[False]["all"]) / 1024
    grow_t = (f[True]["all"] - f[True]["tenth"]) / 1024
    grow_u = (f[False]["all"] - f[False]["tenth"]) / 1024
    per = f[True]["per_conn_bytes"] - f[False]["per_conn_bytes"]
    row("(f) nginx RSS after all requests, MiB", "%.1f" % (f[False]["all"] / 1024), "%.1f" % (f[True]["all"] / 1024),
        "+%.2f MiB" % more, "<= +2 MiB", more <= 2, 2 / more if more > 0 else 2)
    row("(f) RSS growth over the last 90% of requests, MiB", "%.2f" % grow_u, "%.2f" % grow_t, "", "none",
        grow_t - grow_u <= 0.25, 1 if grow_t - grow_u <= 0.25 else 0.5)
    row("(f) bytes per idle tracked connection", "%.0f" % f[False]["per_conn_bytes"],
        "%.0f" % f[True]["per_conn_bytes"], "+%.0f" % per, "<= 512", per <= 512,
        512 / per if per > 0 else 2)
    lines += floor_section(r)
    lines += ["", "## Every run", ""]
    for key, label in (("a", "(a) nginx `return 200`"), ("b", "(b) nginx proxy"),
                       ("h", "(h) nginx + php-fpm")):
        for traced in (False, True):
            lines.append("- %s, %s: requests/s %s; p99 ms %s" % (
                label, "traced" if traced else "untraced", md_runs(r[key][traced], "rps", "%.0f"),
                md_runs(r[key][traced], "p99", "%.3f")))
            if "cpu_us" in r[key][traced][0]:
                lines[-1] += "; %s CPU us/request %s" % ("nginx and php-fpm" if key == "h" else "nginx",
                                                         md_runs(r[key][traced], "cpu_us", "%.2f"))
                if traced:
                    lines[-1] += "; collector CPU us/request %s" % md_runs(r[key][traced], "collector_us", "%.2f")
    for key, label in (("c", "(c) redis-benchmark"), ("c16", "(c) redis-benchmark -P 16"),
                       ("g", "(g) pgbench -S")):
        for traced in (False, True):
            lines.append("- %s, %s: %s/s %s; client CPU us %s" % (
                label, "traced" if traced else "untraced", "transactions" if key == "g" else "requests",
                md_runs(r[key][traced], "rps", "%.0f"), md_runs(r[key][traced], "cpu_us", "%.2f")))
            if traced:
                lines[-1] += "; collector CPU us %s; spans exported %s" % (
                    md_runs(r[key][traced], "collector_us", "%.2f"), md_runs(r[key][traced], "spans", "%d"))
    if "k" in r:
        lines += logs_runs(r)
    lines.append("- (e) collector spans/s: %s (%s spans per datagram, real shim batches)" % (
        md_runs(r["e"], "spans_per_second", "%.0f"), r["e"][0]["spans_per_datagram"]))
    lines.append("- (f) nginx RSS KiB untraced %s; traced %s" % (f[False], f[True]))
    lines.append("- (i) transport: %d spans sent, %d exported, %d dropped %s, %d received in %d "
                 "datagrams, collector CPU %.2f s over %.1f s" % (
                     i["spans_sent"], i["spans_exported"], i["spans_dropped"],
                     i["dropped_by_reason"], i["spans_received"], i["datagrams"],
                     i["collector_cpu_seconds"], i["seconds"]))
    lines += ["", "## How each is measured", "",
              "- (a), (b): `wrk -t1 -c10 -d%ds --latency` on CPU 0 against nginx (one worker, on CPU 1) "
              "with `return 200`, keep-alive; (b) is an nginx proxying to a second one over an "
              "upstream keep-alive pool. Traced means every nginx under the shim, a collector "
              "running and writing every span. 100%% sampling. CPU per request: the nginx processes' "
              "and the collector's user and system time over the run (`/proc/PID/stat`), divided by "
              "the requests wrk made; unlike requests/s it does not depend on how the two cores are "
              "shared between wrk, nginx and the collector." % r["seconds"],
              "- (c): `redis-benchmark -c 10 -n %d -t get,set`, without pipelining and with `-P 16`, "
              "on CPU 0, against an untraced `redis-server` on CPU 1 (the shim follows a database "
              "from its client); traced means redis-benchmark under the shim, a CLIENT span per "
              "command, each exported: its exit counters (`SPANSHIM_LOG=debug`) give the spans "
              "exported and dropped. The figure is the mean of GET and SET; CPU per command is "
              "redis-benchmark's user and system time (and the collector's) over the run, divided "
              "by the commands." % (r["c"][True][0]["commands"] // 2),
              "- (g): `pgbench -S -n -c 4 -j 1 -T %d` (select-only, simple query protocol, one query "
              "a transaction) on CPU 0 against an untraced PostgreSQL on CPU 1 with pgbench's "
              "tables at scale 1, traced and untraced as in (c); tps without the initial connection "
              "time." % r["seconds"],
              "- (d): `tests/bench/instructions.py`: callgrind counts a run of `tests/bench/opbench` "
              "at two sizes, traced and untraced; the difference of differences per operation. A "
              "traced request is a minimal head each way (Host and User-Agent; Content-Length), and "
              "again with a browser's request head and nginx's response head (`opbench httpfull`). The "
              "database operations go over loopback TCP to opbench itself: a Redis GET and its bulk "
              "reply, and pgbench -S's query answered with a row, CommandComplete and ReadyForQuery. "
              "A ctest (`bench_instructions`) fails if any grows more than 10% over "
              "`tests/bench/instructions-baseline.json`.",
              "- (e): `tests/bench/collector_rate.py` (the collector pinned to one core, writing `.jsonl` "
              "to a file): the page cache warmed first (as many bytes as the run writes, written "
              "and removed), as on a machine that has run for a while; on a freshly booted virtual "
              "machine the first write to each page costs a fault in the host (1.4 GB to tmpfs: 3.1 s "
              "of system time the first time, 0.5 s after). The unwarmed figure is shown beside it.",
              "- (h): `wrk -t1 -c10` as in (a) against nginx (on CPU 1) passing every request over "
              "FastCGI on a Unix socket (a new connection each, nginx's default) to php-fpm "
              "(`pm = static`, 2 workers, on CPU 1) serving a page that prints `ok`; traced means "
              "nginx and php-fpm under the shim: a SERVER and a FastCGI CLIENT span in nginx and a "
              "SERVER span in php-fpm per request. CPU per request: nginx's, php-fpm's master and "
              "workers' and the collector's, as in (a).",
              "- (i): `tests/bench/shim_rate.py 100000 60`: `opbench http-paced` under the shim "
              "(HTTP exchanges over loopback in one process, a CLIENT and a SERVER span each, "
              "paced to the rate a millisecond at a time) sending to a collector that writes "
              "`.jsonl` to /dev/null, neither pinned; spans sent, exported and dropped by reason "
              "from the shim's exit counters (`SPANSHIM_LOG=debug`), received from the "
              "collector's exit line, its CPU from `/proc/PID/stat`.",
              "- (j): `wrk -t1 -c10` as in (a) against one Node.js `http` server answering `ok` "
              "(`tests/bench/peer_server.js`, on CPU 1): untraced, under the shim (a SERVER span a "
              "request), and under the OpenTelemetry Node SDK (`tests/bench/peer_sdk.js`: "
              "`@opentelemetry/sdk-node` with `@opentelemetry/instrumentation-http`, a "
              "`BatchSpanProcessor`, the OTLP/HTTP protobuf exporter to the collector's "
              "`--otlp-listen`, `AlwaysOnSampler`), the three in turn; CPU per request is the "
              "server's, RSS its `VmRSS` after each run.",
              LOGS_HOW,
              "- (f): nginx's RSS after warm-up, after a tenth of the requests and after all of them "
              "(%d traced), then with %s idle connections open." % (r["f"][True]["requests"], "2000"),
              "", HISTORY]
    with open(os.path.join(root, "BENCHMARKS.md"), "w") as fo:
        fo.write("\n".join(lines) + "\n")
    chart(scores, os.path.join(root, "BENCHMARKS.png"))
    return verdict


def floor_section(r):
    """How far each workload's cost is above its floor: what the untraced
    program itself spends per operation."""
    med = statistics.median
    out = ["", "## Above the floor", "",
           "The floor is what the untraced program itself spends on one operation (its CPU, "
           "user and system, over the run divided by the operations; for (d), its instructions). "
           "The shim's share is the traced program's CPU minus the floor; the collector's is its "
           "CPU over the same run, per operation.", "",
           "| workload | floor, us an operation | the shim adds, us | the collector adds, us | "
           "added, against the floor |", "|---|---|---|---|---|"]

    def line(label, u, t, c):
        out.append("| %s | %.2f | +%.2f | +%.2f | %.1f%% |" % (
            label, u, t - u, c, 100 * (t - u + c) / u if u else 0))

    for key, label in (("a", "(a) nginx `return 200`, a request"), ("b", "(b) nginx proxy, a request"),
                       ("h", "(h) nginx + php-fpm, a request")):
        if key in r and "cpu_us" in r[key][False][0]:
            line(label, med(x["cpu_us"] for x in r[key][False]), med(x["cpu_us"] for x in r[key][True]),
                 med(x["collector_us"] for x in r[key][True]))
    for key, label in (("c", "(c) redis-benchmark, a command"), ("c16", "(c) redis-benchmark -P 16, a command"),
                       ("g", "(g) pgbench -S, a transaction")):
        if key in r:
            line(label, med(x["cpu_us"] for x in r[key][False]), med(x["cpu_us"] for x in r[key][True]),
                 med(x["collector_us"] for x in r[key][True]))
    if "j" in r:
        u = med(x["cpu_us"] for x in r["j"]["untraced"])
        for v, label in (("spanshim", "(j) Node.js `http`, a request, under spanshim"),
                         ("sdk", "(j) the same under the OpenTelemetry Node SDK")):
            line(label, u, med(x["cpu_us"] for x in r["j"][v]), med(x["collector_us"] for x in r["j"][v]))
    d = r.get("d", {})
    if "http_per_request" in d:
        out.append("| (d) a traced HTTP request, instructions (client and server) | %.0f | +%.0f | | %.0f%% |" % (
            d["http_untraced_per_op"], d["http_per_request"],
            100 * d["http_per_request"] / d["http_untraced_per_op"]))
    return out


def chart(scores, png):
    """Every row with a target, as measured against its target: 1 is the
    target exactly, above it met (green), below missed (red)."""
    d = tempfile.mkdtemp(prefix="spanshim-chart.")
    dat = os.path.join(d, "scores.dat")
    with open(dat, "w") as f:
        for i, (name, score) in enumerate(scores):
            label = name.split(",")[0].replace('"', "'").replace("`", "")
            f.write('%d "%s" %.4f %d\n' % (i, label, min(score, 2.0),
                                            0x2e8b57 if score >= 1 else 0xc0392b))
    script = """set terminal pngcairo size 1000,%d font ",10"
set output "%s"
set title "Each target, as measured against it (1: met exactly; right of the line: met; shown up to 2)"
set style fill solid 0.8 border -1
set xrange [0:2.05]
set yrange [%f:-0.7]
set ytics scale 0
set grid xtics
set arrow from 1, graph 0 to 1, graph 1 nohead lw 2 lc rgb "#333333"
unset key
plot "%s" using ($3/2):1:(0):3:($1-0.35):($1+0.35):(int($4)):ytic(2) \\
     with boxxyerror lc rgb variable
""" % (120 + 24 * len(scores), png, len(scores) - 0.3, dat)
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
