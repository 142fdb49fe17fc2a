// Runs statsd 0.9.0 with statsd-librato-backend in legacy mode (writeToLegacy)
// against LIBRATO_URL, sends a few StatsD packets once statsd is up, waits for
// their flush and stops. Exit status 0 once statsd has flushed; the backend
// logs its own HTTP errors.
//
// STATSD_COUNTERS_AS_GAUGES=false sends counters as Librato counters (running
// totals) to the legacy route; STATSD_ROUNDS=N sends the packets N times, one
// flush apart (default 1), so a second flush shows what the backend does
// with the first one's answer.
const { spawn } = require('child_process');
const dgram = require('dgram');
const fs = require('fs');
const os = require('os');
const path = require('path');

const port = 18000 + Math.floor(Math.random() * 2000);
const rounds = +(process.env.STATSD_ROUNDS || 1);
const conf = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'statsd-')), 'config.js');
const librato = {
  email: process.env.LIBRATO_EMAIL, token: process.env.LIBRATO_TOKEN,
  api: process.env.LIBRATO_URL, writeToLegacy: true, source: 'statsd-host',
};
if (process.env.STATSD_COUNTERS_AS_GAUGES === 'false') librato.countersAsGauges = false;
fs.writeFileSync(conf, JSON.stringify({
  port: port, mgmt_port: port + 1, flushInterval: 1000, deleteIdleStats: true,
  backends: ['statsd-librato-backend'], librato: librato,
}));
const daemon = spawn(process.execPath, [path.join(__dirname, 'node_modules/statsd/stats.js'), conf],
  { cwd: __dirname, stdio: ['ignore', 'pipe', 'inherit'] });
let log = '';
let up = false;
daemon.stdout.on('data', (d) => {
  log += d;
  process.stderr.write(d);
  if (!up && log.includes('server is up')) {
    up = true;
    schedule();
  }
});

const packets = (process.env.STATSD_PACKETS ||
  'app.hits:1|c app.hits:3|c app.temp:21.5|g app.resp:120|ms app.resp:80|ms app.resp:100|ms').split(' ');

// statsd flushes on whole seconds of the clock (its startup time is whole
// seconds, the interval one second): each round goes out half-way between
// two flushes, so it is flushed alone, and statsd stops once the last
// flush's requests had time to finish.
function schedule() {
  const first = Math.ceil(Date.now() / 1000) * 1000 + 500;
  for (let r = 0; r < rounds; r++) {
    setTimeout(() => {
      const s = dgram.createSocket('udp4');
      let n = 0;
      for (const p of packets) s.send(p, port, '127.0.0.1', () => { if (++n === packets.length) s.close(); });
    }, first + r * 1000 - Date.now());
  }
  setTimeout(() => { daemon.kill('SIGTERM'); }, first + rounds * 1000 + 1200 - Date.now());
}
daemon.on('exit', () => process.exit(0));
