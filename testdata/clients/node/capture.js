// Records every request as one JSON line: method, url, headers (auth masked), body.
const http = require('http');
const fs = require('fs');
const out = process.argv[3];
const srv = http.createServer((req, res) => {
  let chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    const h = Object.assign({}, req.headers);
    if (h.authorization) h.authorization = h.authorization.split(' ')[0] + ' <masked>';
    fs.appendFileSync(out, JSON.stringify({method: req.method, url: req.url, headers: h, body: Buffer.concat(chunks).toString()}) + '\n');
    res.writeHead(req.url.startsWith('/v1/measurements') ? 202 : 200, {'Content-Type': 'application/json'});
    res.end(req.url.startsWith('/v1/measurements') ? '{"measurements":{"summary":{"total":1,"accepted":1,"failed":0,"filtered":0}}}' : '');
  });
});
srv.listen(+process.argv[2], '127.0.0.1');
