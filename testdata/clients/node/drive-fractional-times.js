// Sends times as a Node program computes them, Date.now() / 1000, with the
// fraction: an annotation (start_time, end_time), a tagged measurement
// (time) and a legacy gauge (measure_time), through Node's own http module
// and JSON.stringify, with Basic email:token. No npm client is involved:
// this is the arithmetic a Node client does before it sends epoch seconds.
const http = require('http');
const url = new URL(process.env.LIBRATO_URL);
const auth = 'Basic ' + Buffer.from(process.env.LIBRATO_EMAIL + ':' + process.env.LIBRATO_TOKEN).toString('base64');

function post(path, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({
      host: url.hostname, port: url.port, path: path, method: 'POST',
      headers: { 'Authorization': auth, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode < 300 ? resolve() : reject(new Error(path + ' answered ' + res.statusCode))));
    });
    req.on('error', reject);
    req.end(data);
  });
}

(async () => {
  const now = Date.now() / 1000;
  await post('/v1/annotations/node.deploys', { title: 'deploy', start_time: now - 60, end_time: now });
  await post('/v1/measurements', { measurements: [{ name: 'node.frac', value: 1, time: now, tags: { host: 'a' } }] });
  await post('/v1/metrics', { gauges: [{ name: 'node.frac.legacy', value: 2, source: 'a', measure_time: now }] });
})().catch((e) => { console.error(e.message); process.exitCode = 3; });
