#!/usr/bin/env node
// SAMPLE ONLY: a tiny stand-in for an HR system's REST API, so the quickstart runs with nothing
// else installed. It is not part of Provisio. Usage: node sample-api.mjs [port] (default 4010).
// SAMPLE_EMPLOYEES=N serves N employees (default 120): lower it and run again to see deletion marking.
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? process.env.SAMPLE_API_PORT ?? 4010);
const count = Number(process.env.SAMPLE_EMPLOYEES ?? 120);
const departments = ['Finance', 'IT', 'Sales', 'Support', 'HR'];
const first = ['Aino', 'Eino', 'Helmi', 'Lauri', 'Maija', 'Oskari', 'Sanna', 'Timo', 'Venla', 'Ville'];
const last = ['Korhonen', 'Virtanen', 'Mäkinen', 'Nieminen', 'Hämäläinen', 'Laine', 'Heikkinen', 'Koskinen'];

const employee = (i) => ({
  id: `E${String(i).padStart(4, '0')}`,
  name: { 'first-name': first[i % first.length], 'last-name': last[i % last.length] },
  email: `${first[i % first.length].toLowerCase()}.${last[i % last.length].toLowerCase()}${i}@example.com`,
  department: departments[i % departments.length],
  active: i % 17 !== 0,
});

createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === '/api/employees') {
    const page = Number(url.searchParams.get('page') ?? 1);
    const size = Number(url.searchParams.get('size') ?? 25);
    const rows = [];
    for (let i = (page - 1) * size + 1; i <= Math.min(page * size, count); i++) rows.push(employee(i));
    return send(200, { resultset: rows, total: count });
  }
  const groups = /^\/api\/employees\/([^/]+)\/groups$/.exec(url.pathname);
  if (groups) {
    const i = Number(groups[1].slice(1));
    return send(200, { resultset: [{ name: `${departments[i % departments.length]} team` }, { name: 'All staff' }] });
  }
  send(404, { errors: [{ message: `no such path ${url.pathname}` }] });
}).listen(port, '127.0.0.1', () => console.log(`sample HR API on http://127.0.0.1:${port}/api/`));
