// SPDX-License-Identifier: GPL-3.0-or-later
// Copyright 2026 The Moat developers
//
// The reference side of the differential test: @ghostery/adblocker's verdict
// for every request of a request file, one line each, in Moat's format:
//
//   idx<TAB>verdict<TAB>rule<TAB>list        verdict: block | exception | allow
//
//   node differential.mjs NODE_DIR ASSETS REQUESTS > ghostery.tsv
//
// NODE_DIR holds node_modules/@ghostery/adblocker (installed by
// `npm install --prefix NODE_DIR @ghostery/adblocker@2.18.2`, never committed).
// The engine is built with debug:true so every filter keeps its text.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [nodeDir, assets, requests] = process.argv.slice(2);
const require = createRequire(join(resolve(nodeDir), 'package.json'));
const { FiltersEngine, Request } = require('@ghostery/adblocker');

const LISTS = [
  ['easylist', 'thirdparties/easylist/easylist.txt'],
  ['easyprivacy', 'thirdparties/easylist/easyprivacy.txt'],
  ['urlhaus', 'thirdparties/urlhaus-filter/urlhaus-filter-online.txt'],
  ['badware', 'ublock/badware.min.txt'],
];

const texts = LISTS.map(([name, rel]) => [name, readFileSync(join(assets, rel), 'utf8')]);
const origin = new Map();
for (const [name, text] of texts)
  for (let line of text.split('\n')) {
    line = line.trim();
    if (line && !origin.has(line)) origin.set(line, name);
  }
const engine = FiltersEngine.parse(texts.map(([, t]) => t).join('\n'), {
  loadCosmeticFilters: false,
  loadGenericCosmeticsFilters: false,
  loadNetworkFilters: true,
  loadExceptionFilters: true,
  loadCSPFilters: true,
  enableHtmlFiltering: false,
  debug: true,
  enableOptimizations: false,
});

const clean = (s) => String(s).replace(/[\t\r\n]/g, ' ');
const out = [];
let idx = 0;
for (const line of readFileSync(requests, 'utf8').split('\n')) {
  if (line.length === 0 || line.startsWith('#')) continue;
  const [url, sourceUrl, type] = line.split('\t');
  idx++;
  const res = engine.match(Request.fromRawDetails({ url, sourceUrl, type }));
  let verdict = 'allow', rule = '';
  if (res.filter !== undefined && res.exception === undefined) {
    verdict = 'block';
    rule = res.filter.toString();
  } else if (res.exception !== undefined) {
    verdict = 'exception';
    rule = res.exception.toString();
  }
  out.push(`${idx}\t${verdict}\t${clean(rule)}\t${rule ? origin.get(rule) ?? '?' : ''}`);
}
process.stdout.write(out.join('\n') + '\n');
