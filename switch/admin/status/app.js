// cardswitch status page: polls /status.json and /status/transactions once
// a second and redraws. Every value from the switch goes into the DOM as
// text (textContent, setAttribute), never as markup, and the only requests
// go to this page's own origin. No full PAN is ever shown: the switch masks
// them, and the lookup box clears its input once answered.
'use strict';
(function () {
  var POLL_MS = 1000;
  var OUTCOME_OK = { approved: true, 'stand-in': true, advised: true };
  var ICONS = { up: '\u25CF', partial: '\u25D0', signing_on: '\u25CC', down: '\u2716', offline: '\u25A0', unknown: '?' };
  var WORDS = { up: 'up', partial: 'partial', signing_on: 'signing on', down: 'down', offline: 'offline' };

  function $(id) { return document.getElementById(id); }

  // el builds an element; children that are strings or numbers become text nodes.
  function el(tag, cls, children) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    append(e, children);
    return e;
  }
  function append(e, children) {
    if (children === undefined || children === null) return e;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (c) {
      if (c === undefined || c === null) return;
      e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    });
    return e;
  }
  function td(v, cls) { return el('td', cls, v === undefined || v === null || v === '' ? '–' : v); }
  function num(v, digits) {
    if (v === undefined || v === null || isNaN(v)) return '–';
    return Number(v).toFixed(digits || 0);
  }
  function pct(v) { return v === undefined || v === null ? '–' : (v * 100).toFixed(1) + ' %'; }
  function ms(v) { return v === undefined || v === null ? '–' : (v < 10 ? v.toFixed(2) : v.toFixed(0)) + ' ms'; }

  // clock shows an RFC 3339 time as hh:mm:ss UTC; age measures from the
  // switch's own "now" so that a skewed browser clock does not mislead.
  var serverNow = null;
  function clock(t) {
    if (!t) return '–';
    var d = new Date(t);
    return isNaN(d) ? String(t) : d.toISOString().slice(11, 19) + 'Z';
  }
  function age(t) {
    if (!t) return '–';
    var then = Date.parse(t), now = serverNow === null ? Date.now() : serverNow;
    if (isNaN(then)) return String(t);
    var s = Math.max(0, Math.round((now - then) / 1000));
    if (s < 120) return s + ' s ago';
    if (s < 7200) return Math.round(s / 60) + ' min ago';
    if (s < 172800) return Math.round(s / 3600) + ' h ago';
    return clock(t).replace('Z', '') + ' ' + new Date(then).toISOString().slice(0, 10);
  }
  function timeCell(t) {
    var c = td(age(t));
    if (t) c.title = String(t);
    return c;
  }

  // stateBadge: the state as a word, an icon shape and a colour, so that
  // no one needs to tell colours apart.
  function stateBadge(state) {
    var key = Object.prototype.hasOwnProperty.call(WORDS, state) ? state : 'unknown';
    var b = el('span', 'state state-' + key);
    var icon = el('span', 'icon', ICONS[key]);
    icon.setAttribute('aria-hidden', 'true');
    b.appendChild(icon);
    b.appendChild(el('span', 'word', key === 'unknown' ? String(state || 'unknown') : WORDS[key]));
    b.dataset.state = String(state || '');
    return b;
  }

  // ---- charts: inline SVG, drawn here. The SVG skeleton is parsed from a
  // constant (no data in it), so the page needs no namespace URL.
  var svgTpl = document.createElement('template');
  svgTpl.innerHTML = '<svg viewBox="0 0 300 48" preserveAspectRatio="none" role="img">' +
    '<title></title><path class="l1"></path><path class="l2"></path></svg>';

  function pathOf(points, key, max, slots) {
    var d = '', pen = false, off = slots - points.length;
    points.forEach(function (p, i) {
      var v = p[key];
      if (v === null || v === undefined || isNaN(v)) { pen = false; return; }
      var x = ((off + i) / Math.max(1, slots - 1)) * 300;
      var y = 46 - (max > 0 ? (v / max) * 42 : 0);
      d += (pen ? 'L' : 'M') + x.toFixed(1) + ' ' + y.toFixed(1);
      pen = true;
    });
    return d;
  }
  function maxOf(points, keys) {
    var m = 0;
    points.forEach(function (p) { keys.forEach(function (k) { if (p[k] > m) m = p[k]; }); });
    return m;
  }

  // chart draws one or two series of points as lines; fixedMax, when set,
  // is the top of the scale (1 for a rate).
  function chart(label, points, keys, fmt, fixedMax) {
    points = points || [];
    var slots = Math.max(30, points.length);
    var max = fixedMax || maxOf(points, keys) * 1.1;
    var svg = svgTpl.content.firstChild.cloneNode(true);
    var paths = svg.querySelectorAll('path');
    keys.forEach(function (k, i) { paths[i].setAttribute('d', pathOf(points, k, max, slots)); });
    var last = lastPoint({ points: points });
    var any = points.some(function (p) { return keys.some(function (k) { return p[k] !== null && p[k] !== undefined; }); });
    var lastText = any && last ? keys.map(function (k) { return fmt(last[k]); }).join(' / ') : 'no traffic';
    svg.querySelector('title').textContent = label + ' over the last 5 minutes; last ' + lastText;
    svg.setAttribute('aria-label', label + ', last ' + lastText);
    var cap = el('figcaption', null, [el('span', null, label), el('b', null, lastText)]);
    return el('figure', 'chart', [cap, svg]);
  }
  function charts(series) {
    var pts = (series && series.points) || [];
    return [
      chart('requests/s', pts, ['requests_per_s'], function (v) { return num(v, 1); }),
      chart('approval rate', pts, ['approval_rate'], pct, 1),
      chart('p50 / p99', pts, ['p50_ms', 'p99_ms'], ms)
    ];
  }
  function lastPoint(series) {
    var pts = (series && series.points) || [];
    for (var i = pts.length - 1; i >= 0; i--) if (pts[i].requests_per_s > 0) return pts[i];
    return pts.length ? pts[pts.length - 1] : null;
  }

  // ---- response-code mix
  function codeClass(code) {
    // The approved codes as the switch counts its approval rate.
    if (code === '00' || code === '08' || code === '10' || code === '11') return 'ok';
    if (code === '91' || code === '96' || code === '68' || code === '92' || code === '94' || code === '30') return 'err';
    return 'dec';
  }
  function codeMix(codes) {
    var keys = Object.keys(codes || {}).sort(function (a, b) { return codes[b] - codes[a]; });
    var total = keys.reduce(function (s, k) { return s + codes[k]; }, 0);
    if (!total) return [el('span', 'muted small', 'no answers yet')];
    var bar = el('div', 'code-bar');
    bar.setAttribute('aria-hidden', 'true');
    var chips = el('div', 'codes');
    keys.forEach(function (k) {
      var share = codes[k] / total;
      var seg = el('span', codeClass(k));
      seg.style.width = (share * 100).toFixed(2) + '%';
      bar.appendChild(seg);
      chips.appendChild(el('span', 'code-chip ' + codeClass(k),
        [el('b', 'mono', k), String(codes[k]), el('span', 'muted', '(' + (share * 100).toFixed(1) + ' %)')]));
    });
    return [bar, chips];
  }

  // ---- switch-wide section
  function renderSwitch(sw) {
    sw = sw || {};
    $('window').textContent = Math.round((sw.window_seconds || 300) / 60);
    $('sw-inflight').textContent = num(sw.in_flight);
    var p = lastPoint(sw.series);
    $('sw-rps').textContent = p ? num(p.requests_per_s, 1) : '–';
    $('sw-appr').textContent = p ? pct(p.approval_rate) : '–';
    $('sw-lat').textContent = p ? ms(p.p50_ms) + ' / ' + ms(p.p99_ms) : '–';
    $('sw-charts').replaceChildren.apply($('sw-charts'), charts(sw.series));
    $('sw-codes').replaceChildren.apply($('sw-codes'), codeMix(sw.codes));
  }

  // ---- issuers
  function issuerRow(is) {
    var q = is.queues || {}, si = is.stand_in || {};
    var tr = el('tr');
    tr.dataset.issuer = String(is.name);
    append(tr, [
      el('th', null, String(is.name)),
      el('td', 'state-cell', stateBadge(is.offline ? 'offline' : is.state)),
      td(is.dialect, 'mono'),
      td(num(is.in_flight), 'num'), td(num(is.consecutive_timeouts), 'num'),
      td(num(q.reversals), 'num'), td(num(q.advices), 'num'),
      td(q.oldest_age_seconds ? num(q.oldest_age_seconds, 1) + ' s' : '–', 'num'),
      td(si.enabled ? 'on, ' + num(si.decisions) + ' decisions' : 'off')
    ]);
    tr.firstChild.setAttribute('scope', 'row');
    return tr;
  }
  function linkRow(l) {
    var tr = el('tr');
    append(tr, [
      td(l.endpoint, 'mono'), td(num(l.conn), 'num'), el('td', null, stateBadge(l.state)),
      td(num(l.in_flight), 'num'), timeCell(l.last_answer), timeCell(l.last_echo), timeCell(l.since)
    ]);
    return tr;
  }
  function linksTable(links) {
    var head = el('tr', null, ['endpoint', 'conn', 'state', 'in flight', 'last answer', 'last echo', 'since']
      .map(function (h) { var th = el('th', null, h); th.setAttribute('scope', 'col'); return th; }));
    var body = el('tbody', null, (links || []).map(linkRow));
    if (!links || !links.length) body.appendChild(el('tr', null, el('td', 'muted', 'no links')));
    var t = el('table', 'links', [el('caption', 'sr-only', 'links'), el('thead', null, head), body]);
    return el('div', 'table-wrap', t);
  }
  function issuerCard(is) {
    var card = el('article', 'card');
    card.dataset.issuer = String(is.name);
    var h = el('h3', null, [String(is.name), stateBadge(is.offline ? 'offline' : is.state),
      el('span', 'muted small', [is.dialect || '', is.timeout_ms ? ' · timeout ' + is.timeout_ms + ' ms' : ''])]);
    append(card, [h, linksTable(is.links), el('div', 'charts', charts(is.series)),
      el('div', null, codeMix(is.codes))]);
    return card;
  }
  function renderIssuers(list) {
    list = list || [];
    var body = $('issuers-body');
    body.replaceChildren.apply(body, list.map(issuerRow));
    if (!list.length) body.appendChild(el('tr', null, el('td', 'muted', 'no issuers configured')));
    var cards = $('issuer-cards');
    cards.replaceChildren.apply(cards, list.map(issuerCard));
    syncIssuerFilter(list.map(function (i) { return String(i.name); }));
  }

  // syncIssuerFilter keeps the issuer filter's options in step with the
  // configured issuers without resetting the operator's choice.
  var knownIssuers = '';
  function syncIssuerFilter(names) {
    var key = names.join('\n');
    if (key === knownIssuers) return;
    knownIssuers = key;
    var sel = $('f-issuer'), cur = sel.value;
    var opts = [el('option', null, 'all')];
    opts[0].value = '';
    names.forEach(function (n) { var o = el('option', null, n); o.value = n; opts.push(o); });
    sel.replaceChildren.apply(sel, opts);
    sel.value = names.indexOf(cur) >= 0 ? cur : '';
  }

  // ---- acquirers, reloads, cluster
  function renderAcquirers(list) {
    list = list || [];
    $('acq-count').textContent = '(' + list.length + ' connected)';
    var body = $('acq-body');
    body.replaceChildren.apply(body, list.map(function (a) {
      return el('tr', null, [td(a.name || '(unnamed)'), td(a.remote, 'mono'), td(a.listener),
        td(num(a.in_flight), 'num'), timeCell(a.connected_at)]);
    }));
    if (!list.length) body.appendChild(el('tr', null, el('td', 'muted', 'no acquirer connected')));
  }
  function reloadItem(r, i) {
    var head = [el('time', null, clock(r.at)), ' ', el('span', 'mono', String(r.hash || '').slice(0, 12)), ' ',
      stateBadge(r.ok ? 'up' : 'down')];
    head[4].querySelector('.word').textContent = r.ok ? 'applied' : 'rejected';
    var li = el('li', null, head);
    if (r.error) li.appendChild(el('div', 'error', String(r.error)));
    var diff = r.diff || [];
    if (diff.length) {
      var pre = el('pre', null, diff.map(function (line) {
        var s = String(line), c = s[0] === '+' ? 'diff-add' : s[0] === '-' ? 'diff-del' : null;
        return el('span', c, s + '\n');
      }));
      var det = el('details', null, [el('summary', null, diff.length + ' change' + (diff.length > 1 ? 's' : '')), pre]);
      det.open = i === 0;
      li.appendChild(det);
    } else if (r.ok) {
      li.appendChild(el('div', 'muted small', 'no change'));
    }
    return li;
  }
  // Reload history changes rarely: it is redrawn only when it changes, so
  // that a <details> the operator opened stays open.
  var reloadKey = null;
  function renderReloads(list) {
    list = list || [];
    var key = JSON.stringify(list);
    if (key === reloadKey) return;
    reloadKey = key;
    var ol = $('reloads');
    ol.replaceChildren.apply(ol, list.map(reloadItem));
    if (!list.length) ol.appendChild(el('li', 'muted', 'no reload since start'));
  }
  function renderCluster(cl) {
    var sec = $('sec-cluster');
    sec.hidden = !cl || !cl.nodes;
    if (sec.hidden) return;
    var body = $('cluster-body');
    body.replaceChildren.apply(body, cl.nodes.map(function (n) {
      var name = String(n.node) + (n.self ? ' (this node)' : '');
      var hash = el('td', 'mono', [String(n.config_hash || '–').slice(0, 12)]);
      if (n.differs) hash.appendChild(el('span', 'error', ' \u26A0 differs'));
      return el('tr', null, [td(name), timeCell(n.heartbeat), hash]);
    }));
  }

  function renderHeader(s) {
    $('node').textContent = s.node ? '· ' + s.node : '';
    var cfg = s.config || {};
    $('cfg-hash').textContent = String(cfg.hash || '–').slice(0, 12);
    $('cfg-hash').title = String(cfg.source || '');
    $('cfg-loaded').textContent = age(cfg.loaded_at);
    $('started').textContent = age(s.started_at);
    $('updated').textContent = clock(s.now);
  }

  function render(s) {
    serverNow = Date.parse(s.now);
    if (isNaN(serverNow)) serverNow = null;
    renderHeader(s);
    renderSwitch(s.switch);
    renderIssuers(s.issuers);
    renderAcquirers(s.acquirers);
    renderReloads(s.reloads);
    renderCluster(s.cluster);
  }

  // ---- fetching
  function getJSON(url, opts) {
    opts = opts || {};
    opts.credentials = 'same-origin';
    opts.cache = 'no-store';
    opts.headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
    return fetch(url, opts).then(function (r) {
      if (r.status === 401) {
        location.assign('/status/login');
        throw new Error('signed out');
      }
      return r.json().then(function (body) { return { status: r.status, body: body }; },
        function () { return { status: r.status, body: { error: 'HTTP ' + r.status } }; });
    });
  }
  // setText changes a node's text only when it differs: a live region
  // rewritten with the same words every second would be read out again.
  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }
  function setConn(ok, text) {
    var c = $('conn');
    c.className = ok ? 'conn' : 'conn bad';
    setText(c, ok ? text : '\u26A0 ' + text);
  }

  function pollStatus() {
    getJSON('/status.json').then(function (r) {
      if (r.status !== 200) throw new Error(r.body.error || 'HTTP ' + r.status);
      render(r.body);
      setConn(true, 'live');
    }).catch(function (e) {
      setConn(false, 'no data from the switch: ' + e.message);
    }).then(function () { setTimeout(pollStatus, POLL_MS); });
  }

  // ---- transactions
  function txnQuery() {
    var q = new URLSearchParams();
    var issuer = $('f-issuer').value, code = $('f-code').value.trim(), outcome = $('f-outcome').value;
    if (issuer) q.set('issuer', issuer);
    if (code) q.set('code', code);
    if (outcome) q.set('outcome', outcome);
    q.set('limit', '50');
    return '/status/transactions?' + q.toString();
  }
  function txnRow(t) {
    var outcome = String(t.outcome || '');
    var tr = el('tr', null, [
      timeCell(t.time), td(t.acquirer), td(t.issuer), td(t.mti, 'mono'), td(t.pan, 'mono pan'),
      td(t.stan, 'mono'), td(t.rrn, 'mono'), td(t.amount, 'mono num'), td(t.code, 'mono'),
      td((OUTCOME_OK[outcome] ? '\u2713 ' : '\u2717 ') + outcome, 'outcome-' + outcome.replace(/[^a-z-]/g, '')),
      td(t.latency_ms === undefined ? null : ms(t.latency_ms), 'num')
    ]);
    tr.cells[0].textContent = clock(t.time);
    return tr;
  }
  var txnTimer = null;
  function pollTxns() {
    clearTimeout(txnTimer);
    var url = txnQuery();
    getJSON(url).then(function (r) {
      if (url !== txnQuery()) return; // the filters changed meanwhile: a newer poll runs
      var note = $('txn-note'), body = $('txn-body');
      if (r.status !== 200) {
        setText(note, String(r.body.error || 'HTTP ' + r.status));
        note.className = 'error small';
        return;
      }
      var list = r.body.transactions || [];
      note.className = 'muted small';
      setText(note, list.length + ' shown');
      body.replaceChildren.apply(body, list.map(txnRow));
      if (!list.length) body.appendChild(el('tr', null, el('td', 'muted', 'no transaction matches')));
    }).catch(function () { /* the status poll reports the connection */ })
      .then(function () { clearTimeout(txnTimer); txnTimer = setTimeout(pollTxns, POLL_MS); });
  }

  // ---- route lookup
  function lookupAnswer(b) {
    var dl = el('dl');
    function row(k, v) { append(dl, [el('dt', null, k), el('dd', null, v)]); }
    row('input', el('span', 'mono', String(b.input || '')));
    row('BIN', el('span', 'mono', String(b.bin || '')));
    if (!b.issuer) {
      row('issuer', el('span', 'error', 'no route'));
      row('why', String(b.why || ''));
      return dl;
    }
    row('issuer', [el('b', null, String(b.issuer)), ' ', b.issuer_state ? stateBadge(b.issuer_state) : null]);
    if (b.rule) row('rule', el('span', 'mono', 'bin ' + String(b.rule.bin) + ' \u2192 ' + String(b.rule.issuer)));
    if (b.why) row('why', String(b.why));
    var others = b.others || [];
    if (others.length) {
      row('lost', el('ul', null, others.map(function (o) {
        return el('li', null, [el('span', 'mono', 'bin ' + String(o.bin) + ' \u2192 ' + String(o.issuer)), ': ' + String(o.why || '')]);
      })));
    }
    return dl;
  }
  function onLookup(ev) {
    ev.preventDefault();
    var input = $('lookup-pan'), out = $('lookup-result');
    var pan = input.value.replace(/[\s-]/g, '');
    out.replaceChildren(el('span', 'muted', 'looking up…'));
    getJSON('/status/lookup', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ pan: pan })
    }).then(function (r) {
      out.replaceChildren(r.status === 200 ? lookupAnswer(r.body) : el('p', 'error', String(r.body.error || 'HTTP ' + r.status)));
    }).catch(function (e) {
      out.replaceChildren(el('p', 'error', 'lookup failed: ' + e.message));
    }).then(function () {
      // The PAN must not linger on screen or in the form.
      input.value = '';
      pan = '';
      input.focus();
    });
  }

  function start() {
    $('lookup-form').addEventListener('submit', onLookup);
    ['f-issuer', 'f-outcome'].forEach(function (id) { $(id).addEventListener('change', pollTxns); });
    $('f-code').addEventListener('input', function () {
      var v = this.value.trim();
      if (v.length === 0 || v.length === 2) pollTxns();
    });
    $('txn-filters').addEventListener('submit', function (ev) { ev.preventDefault(); pollTxns(); });
    pollStatus();
    pollTxns();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
