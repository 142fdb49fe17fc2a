// Drives librato-node 5.0.6 against LIBRATO_URL: counters, gauges and a timing,
// some with a source, then one flush. Exit status 3 or 4 if the client reported
// an error (it would otherwise log and go on, or crash its host on a 404).
const Client = require('librato-node/lib/client');
Client.prototype.endpoint = process.env.LIBRATO_URL + '/v1';
const librato = require('librato-node');
librato.configure({ email: process.env.LIBRATO_EMAIL, token: process.env.LIBRATO_TOKEN, period: 60000 });
librato.on('error', (e) => { console.error('librato-node error:', e.message); process.exitCode = 3; });
librato.start();
librato.increment('node.requests');
librato.increment('node.requests', 4);
librato.increment('node.requests', { source: 'web-1' });
librato.measure('node.queue', 17);
librato.measure('node.queue', 23);
librato.measure('node.latency', 12.5, { source: 'web-1' });
librato.measure('node.latency', 7.5, { source: 'web-1' });
librato.measure('node.latency', 30, { source: 'web-2' });
setTimeout(() => librato.stop((err) => {
  if (err) { console.error('librato-node stop error:', err.message); process.exitCode = 4; }
}), 100);
