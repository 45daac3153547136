// herogate's sample app. PORT comes from the platform; GREETING is a config var:
//   herogate config:set GREETING="Hi there"
const http = require('node:http')

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain; charset=utf-8')
  res.end(`${process.env.GREETING || 'Hello from herogate'} (${process.env.DYNO || 'local'})\n`)
})

server.listen(Number(process.env.PORT || 5000), '127.0.0.1', () => console.log(`listening on port ${process.env.PORT || 5000}`))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
