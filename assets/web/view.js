// ikesim's walkthrough player. The page holds the diagram as SVG and, in a JSON script
// element, every step of the run: what each message holds (bytes and dissection), what
// the trace says of every other row, the event list, what each node holds (its SAs,
// SPD and SAD, as the terminal walkthrough's node pane shows it) and the lab's
// expectations graded as of each step. Steps are numbered as in the terminal
// walkthrough; the URL fragment #step-N holds the current one. Text from the trace is
// only ever set as textContent.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('ikesim-data').textContent);
  var steps = data.steps, n = steps.length;
  var $ = function (id) { return document.getElementById(id); };
  var diagram = $('diagram'), rowsSVG = document.querySelector('#rows svg');

  // groups[i] is the SVG group of step i; phases[i] the phase header above it, if any.
  var groups = [], phases = [], bySeq = {};
  var all = rowsSVG ? rowsSVG.querySelectorAll('g[data-step]') : [];
  var gOf = {}, phOf = {};
  for (var a = 0; a < all.length; a++) {
    var g = all[a];
    if (g.classList.contains('phase')) phOf[g.dataset.step] = g; else gOf[g.dataset.step] = g;
  }
  steps.forEach(function (s, i) {
    groups.push(gOf[s.seq] || null);
    phases.push(s.phase ? phOf[s.seq] || null : null);
    bySeq[s.seq] = i;
  });

  // The time column stays at the left edge when a wide diagram scrolls sideways: each
  // time is moved right by the scroll, over a white halo (CSS), once per frame.
  var times = rowsSVG ? [].slice.call(rowsSVG.querySelectorAll('g.time')) : [];
  times.forEach(function (t) { t.dataset.at = t.getAttribute('transform') || ''; });
  var pinnedX = 0, pinQueued = false;
  function pinTimes() {
    pinQueued = false;
    var x = diagram.scrollLeft;
    if (x === pinnedX) return;
    pinnedX = x;
    diagram.classList.toggle('scrolled-x', x > 0);
    times.forEach(function (t) { t.setAttribute('transform', (x > 0 ? 'translate(' + x + ',0) ' : '') + t.dataset.at); });
  }
  diagram.addEventListener('scroll', function () {
    if (!pinQueued) { pinQueued = true; requestAnimationFrame(pinTimes); }
  });

  var cur = -1, playing = null, curField = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- the diagram: future rows faint, the current one marked and kept in sight ----

  function mark(i, on) {
    var fut = i > cur;
    [groups[i], phases[i]].forEach(function (g) {
      if (g) g.classList.toggle('future', fut);
    });
    if (groups[i]) groups[i].classList.toggle('cur', !!on);
  }

  // reveal scrolls the diagram so that the step's row is in full view below the lane
  // names, with some room around it.
  function reveal(i) {
    var g = groups[i];
    if (!g) return;
    var r = g.getBoundingClientRect(), box = diagram.getBoundingClientRect();
    // Horizontally, what matters is the row's arrow or box, not its time at the left.
    var l = Infinity, rt = -Infinity;
    for (var c = g.firstElementChild; c; c = c.nextElementSibling) {
      if (c.tagName === 'title' || c.classList.contains('time')) continue;
      var cr = c.getBoundingClientRect();
      if (cr.width || cr.height) { l = Math.min(l, cr.left); rt = Math.max(rt, cr.right); }
    }
    if (l < rt) r = { top: r.top, bottom: r.bottom, left: l, right: rt };
    var top = box.top + $('lanes').offsetHeight + 8, bottom = box.top + diagram.clientHeight - 16;
    if (phases[i]) r = { top: phases[i].getBoundingClientRect().top, bottom: r.bottom, left: r.left, right: r.right };
    if (r.top < top) diagram.scrollTop -= top - r.top + 40;
    else if (r.bottom > bottom) diagram.scrollTop += Math.min(r.bottom - bottom + 40, r.top - top);
    // A row that is not in full view comes to the middle, with room on both sides.
    var left = box.left + 8, right = box.left + diagram.clientWidth - 8;
    if (r.left < left || r.right > right) {
      if (r.right - r.left < right - left) diagram.scrollLeft += (r.left + r.right) / 2 - (left + right) / 2;
      else diagram.scrollLeft += r.left - left - 40;
    }
  }

  function go(i, keepScroll) {
    if (!n) return;
    i = Math.max(0, Math.min(n - 1, i));
    var prev = cur;
    cur = i;
    if (prev < 0) {
      for (var j = 0; j < n; j++) mark(j, j === i);
    } else {
      for (var k = Math.min(prev, i); k <= Math.max(prev, i); k++) mark(k, k === i);
    }
    if (!keepScroll) reveal(i);
    $('step-no').textContent = 'step ' + (i + 1) + ' / ' + n;
    $('step-t').textContent = steps[i].t;
    $('progress-fill').style.width = (100 * (i + 1) / n) + '%';
    if (location.hash !== '#step-' + (i + 1)) history.replaceState(null, '', '#step-' + (i + 1));
    showStep(i);
    if (tab === 'events') showEvents();
    if (tab === 'nodes') showNodes();
    if (tab === 'lab') showLab();
  }

  // ---- the step's panes ----

  function showStep(i) {
    var s = steps[i], side = $('tab-step');
    $('p-title').textContent = s.label;
    $('p-note').textContent = '';
    var lines = $('p-lines');
    lines.textContent = '';
    side.classList.toggle('nomsg', !s.msg);
    if (!s.msg) {
      $('p-meta').textContent = 'step ' + (i + 1) + ' \u00b7 ' + s.t + (s.lane ? ' \u00b7 ' + s.lane : '') + ' \u00b7 ' + s.kind;
      (s.lines || []).forEach(function (l) { lines.appendChild(el('p', '', l)); });
      (s.links || []).forEach(function (l) {
        var p = el('p'), a = el('a', '', l.text);
        a.addEventListener('click', function () { go(l.step - 1); });
        p.appendChild(a);
        lines.appendChild(p);
      });
      return;
    }
    var m = s.msg;
    $('p-meta').textContent = 'step ' + (i + 1) + ' \u00b7 ' + s.t + ' \u00b7 ' + m.from + ' \u2192 ' + m.to +
      (m.src ? ' \u00b7 ' + m.src + ' \u2192 ' + m.dst : '') + ' \u00b7 ' + (m.bytes.length / 2) + ' bytes' +
      (m.tags ? ' \u00b7 ' + m.tags.join('; ') : '') + (m.weak ? ' \u00b7 weak: ' + m.weak.join(', ') : '');
    $('p-note').textContent = m.note ? m.note + ' (' + m.noteref + ')' : '';
    var t = $('p-tree');
    t.textContent = '';
    curField = null;
    if (m.fields) {
      var ul = el('ul', 'tree');
      layers(m.fields).forEach(function (f) { tree(f, null, 0, 'msg', ul); });
      t.appendChild(ul);
    } else {
      t.appendChild(el('p', 'empty', 'no dissection'));
    }
    $('p-fields').scrollTop = 0;
    $('p-x').textContent = '';
    $('p-x').appendChild(el('p', 'empty', 'Click a field to see what it is for and where its bytes are.'));
    hexdump($('p-hex'), m.bytes);
    $('p-hex-title').textContent = 'Bytes (' + (m.bytes.length / 2) + ')';
    var plain = findPlain(m.fields);
    $('p-dec-sec').hidden = !plain;
    hexdump($('p-dec'), plain || '');
  }

  function hexdump(pre, hex) {
    pre.textContent = '';
    var len = hex.length / 2;
    var frag = document.createDocumentFragment();
    for (var off = 0; off < len; off += 16) {
      frag.appendChild(el('span', 'off', ('000' + off.toString(16)).slice(-4) + '  '));
      var ascii = [];
      for (var i = off; i < off + 16; i++) {
        if (i < len) {
          var s = el('span', 'b', hex.substr(2 * i, 2));
          s.dataset.i = i;
          frag.appendChild(s);
          var c = parseInt(hex.substr(2 * i, 2), 16);
          var a = el('span', 'a', c >= 32 && c < 127 ? String.fromCharCode(c) : '.');
          a.dataset.i = i;
          ascii.push(a);
        } else {
          frag.appendChild(document.createTextNode('  '));
        }
        frag.appendChild(document.createTextNode(i % 8 === 7 ? '  ' : ' '));
      }
      ascii.forEach(function (a) { frag.appendChild(a); });
      frag.appendChild(document.createTextNode('\n'));
    }
    pre.appendChild(frag);
  }

  // highlight marks bytes [from, from+len) of a dump and scrolls its own pane (and
  // nothing else) to the first of them.
  function highlight(pre, from, len) {
    var on = pre.querySelectorAll('.on');
    for (var i = 0; i < on.length; i++) on[i].classList.remove('on');
    if (len <= 0) return 0;
    var count = 0, first = null;
    pre.querySelectorAll('.b, .a').forEach(function (s) {
      var k = +s.dataset.i;
      if (k >= from && k < from + len) {
        s.classList.add('on');
        if (s.classList.contains('b')) { count++; if (!first) first = s; }
      }
    });
    if (first) {
      var pane = pre.parentNode, pr = pane.getBoundingClientRect(), fr = first.getBoundingClientRect();
      if (fr.top < pr.top + 24 || fr.bottom > pr.bottom - 4) pane.scrollTop += fr.top - pr.top - 40;
    }
    return count;
  }

  function explained(f) { return f.k !== undefined ? data.explain[f.k] : null; }

  // selectField shows field f's explanation and highlights its bytes; space is the
  // byte space its offsets index: the message, or the decrypted plaintext. The field
  // tree does not move.
  function selectField(row, f, space) {
    if (curField) curField.classList.remove('sel');
    curField = row;
    row.classList.add('sel');
    var box = $('p-x');
    box.textContent = '';
    var head = el('p');
    head.appendChild(el('b', '', f.n));
    if (f.v) head.appendChild(document.createTextNode(' = ' + f.v));
    box.appendChild(head);
    if (f.x) box.appendChild(el('p', '', f.x));
    var x = explained(f);
    if (x && x.text !== f.x) {
      box.appendChild(el('p', '', x.text));
      box.appendChild(el('p', 'ref', (x.short ? x.short + ' \u00b7 ' : '') + x.ref));
    }
    if (f.e) box.appendChild(el('p', 'err', f.e));
    if (f.l > 0) {
      box.appendChild(el('p', 'ref', (f.l === 1 ? 'byte ' + f.o : 'bytes ' + f.o + '\u2013' + (f.o + f.l - 1)) + ' of the ' +
        (space === 'dec' ? 'decrypted payload' : 'message') + (f.l === 1 ? '' : ' (' + f.l + ' bytes)')));
    }
    $('p-explain').scrollTop = 0;
    highlight($('p-hex'), space === 'msg' ? f.o : -1, space === 'msg' ? f.l : 0);
    highlight($('p-dec'), space === 'dec' ? f.o : -1, space === 'dec' ? f.l : 0);
  }

  // tree builds the field list; fields below one with plaintext (p) index that
  // plaintext, which the "Decrypted payload" dump shows.
  function tree(f, parent, depth, space, ul) {
    var li = el('li');
    var row = el('span', 'row');
    var x = explained(f);
    var tog = el('span', 'tog', f.c ? '\u25be' : '');
    li.appendChild(tog);
    if (x && x.short) row.appendChild(el('span', 'short', x.short));
    row.appendChild(el('span', 'name', f.n));
    if (f.v) row.appendChild(el('span', 'val', ': ' + f.v));
    if (f.e) row.appendChild(el('span', 'err', ' (' + f.e + ')'));
    row.dataset.name = f.n;
    if (x && x.short) row.dataset.short = x.short;
    li.appendChild(row);
    var inner = f.p ? 'dec' : space;
    if (f.p) li.classList.add('dec');
    row.addEventListener('click', function () { selectField(row, f, space); });
    if (f.c) {
      var sub = el('ul');
      f.c.forEach(function (c) { tree(c, f, depth + 1, inner, sub); });
      li.appendChild(sub);
      // Open what holds structure (a layer, a message, SK and its plaintext); a
      // payload whose fields are all plain values starts closed, as one line.
      var open = !f.closed && (depth === 0 || !!f.p || f.c.some(function (c) { return !!c.c; }));
      if (!open) li.classList.add('closed');
      tog.textContent = open ? '\u25be' : '\u25b8';
      tog.addEventListener('click', function () {
        var closed = li.classList.toggle('closed');
        tog.textContent = closed ? '\u25b8' : '\u25be';
      });
    }
    ul.appendChild(li);
  }

  // layers shows the protocol layer a student came for (IKE, ESP, ICMP) first and open,
  // and the IPv4 and UDP headers after it, closed, as the terminal walkthrough does.
  function layers(ip) {
    if (!ip.c) return [ip];
    var top = [], ipHead = [], udpHead = null;
    ip.c.forEach(function (c) {
      if (!c.c) { ipHead.push(c); return; }
      if (c.n === 'UDP') {
        udpHead = { n: c.n, v: c.v, o: c.o, l: c.l, x: c.x, k: c.k, e: c.e, c: [], closed: true };
        c.c.forEach(function (u) { if (u.c) top.push(u); else udpHead.c.push(u); });
        return;
      }
      top.push(c);
    });
    if (udpHead) top.push(udpHead);
    top.push({ n: ip.n, v: ip.v, o: ip.o, l: ip.l, x: ip.x, k: ip.k, e: ip.e, c: ipHead, closed: true });
    return top;
  }

  function findPlain(f) {
    if (!f) return null;
    if (f.p) return f.p;
    for (var i = 0; f.c && i < f.c.length; i++) {
      var p = findPlain(f.c[i]);
      if (p) return p;
    }
    return null;
  }

  // ---- tabs: events, nodes, lab ----

  var tab = 'step';
  function showTab(name) {
    tab = name;
    document.querySelectorAll('#tabs button').forEach(function (b) { b.classList.toggle('on', b.dataset.tab === name); });
    document.querySelectorAll('.tab').forEach(function (t) { t.classList.toggle('on', t.id === 'tab-' + name); });
    if (name === 'events') showEvents();
    if (name === 'nodes') showNodes();
    if (name === 'lab') showLab();
  }
  document.querySelectorAll('#tabs button').forEach(function (b) {
    b.addEventListener('click', function () { showTab(b.dataset.tab); });
  });

  var filterNames = [['m', 'messages'], ['a', 'actions'], ['s', 'states'], ['e', 'ESP'], ['x', 'errors']];
  var filter = { m: true, a: true, s: true, e: true, x: true }, query = '';
  filterNames.forEach(function (f) {
    var b = el('button', 'on', f[0] + ' ' + f[1]);
    b.dataset.f = f[0];
    b.title = 'Show or hide ' + f[1] + ' (' + f[0] + ')';
    b.addEventListener('click', function () { toggleFilter(f[0]); });
    $('filters').appendChild(b);
  });
  function toggleFilter(k) {
    filter[k] = !filter[k];
    document.querySelector('#filters button[data-f="' + k + '"]').classList.toggle('on', filter[k]);
    showEvents();
  }
  $('search').addEventListener('input', function () { query = this.value.toLowerCase(); showEvents(); });
  $('search').addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape') { this.value = ''; query = ''; showEvents(); this.blur(); ev.stopPropagation(); }
  });

  // upTo is the trace's sequence number of the current step: the panes show the run
  // up to it.
  function upTo() { return cur >= 0 ? steps[cur].seq : 0; }

  var maxListed = 1500;
  function showEvents() {
    var box = $('event-list'), seq = upTo(), shown = [];
    data.events.forEach(function (e) {
      if (e.seq <= seq && filter[e.cat] && (!query || e.text.toLowerCase().indexOf(query) >= 0)) shown.push(e);
    });
    box.textContent = '';
    if (!data.events.length) { box.appendChild(el('p', 'empty', 'no event list: the page was made from a diagram alone')); return; }
    var table = el('table');
    if (shown.length > maxListed) {
      box.appendChild(el('p', 'empty', 'the last ' + maxListed + ' of ' + shown.length + ' events'));
      shown = shown.slice(shown.length - maxListed);
    }
    shown.forEach(function (e) {
      var tr = el('tr');
      tr.appendChild(el('td', 't', e.t));
      tr.appendChild(el('td', '', e.node || ''));
      tr.appendChild(el('td', '', e.kind));
      tr.appendChild(el('td', '', e.text));
      if (e.seq === seq) tr.className = 'at';
      tr.addEventListener('click', function () { goToSeq(e.seq); });
      table.appendChild(tr);
    });
    box.appendChild(table);
    box.scrollTop = box.scrollHeight;
  }

  // goToSeq goes to the step of the event with this sequence number, or to the first
  // step after it when it has none (a datagram received, a timer).
  function goToSeq(seq) {
    for (var i = 0; i < n; i++) if (steps[i].seq >= seq) return go(i);
    go(n - 1);
  }

  // showNodes shows what each node holds as of the step: the views the page's data
  // carries for each node (the terminal node pane's lines), the last one at or before it.
  function showNodes() {
    var box = $('nodes'), seq = upTo();
    box.textContent = '';
    box.appendChild(el('p', 'empty', 'as of step ' + (cur + 1) + ' (' + steps[cur].t + ')'));
    data.nodes.forEach(function (nd) {
      box.appendChild(el('h4', '', nd.node));
      var lines = null;
      for (var i = 0; i < nd.views.length && nd.views[i].seq <= seq; i++) lines = nd.views[i].lines;
      box.appendChild(el('pre', 'sa', (lines || ['  no SAs']).join('\n')));
    });
  }

  var revealed = {};
  function showLab() {
    var box = $('lab');
    box.textContent = '';
    box.appendChild(el('h4', '', data.title));
    box.appendChild(el('p', 'desc', data.description || 'No lab description: a saved trace or a diagram alone.'));
    [['hint', 'Hint'], ['solution', 'Solution']].forEach(function (h) {
      if (!data[h[0]]) return;
      if (revealed[h[0]]) {
        var p = el('p', 'desc');
        p.appendChild(el('b', '', h[1] + ': '));
        p.appendChild(document.createTextNode(data[h[0]]));
        box.appendChild(p);
      } else {
        var b = el('button', '', 'Show the ' + h[0]);
        b.id = 'show-' + h[0];
        b.addEventListener('click', function () { revealed[h[0]] = true; showLab(); });
        box.appendChild(b);
        box.appendChild(document.createTextNode(' '));
      }
    });
    if (!data.graded) return;
    var pass = 0;
    box.appendChild(el('h4', '', 'Expectations as of step ' + (cur + 1)));
    data.expect.forEach(function (x) {
      var v = null;
      x.at.forEach(function (a) { if (a.step <= cur) v = a; });
      var verdict = !v || v.pending ? 'wait' : v.pass ? 'pass' : 'fail';
      var d = el('div', 'x ' + verdict);
      d.appendChild(el('span', 'v', verdict.toUpperCase()));
      d.appendChild(document.createTextNode(x.says));
      d.appendChild(el('div', 'seen', x.check + (v ? ' (seen: ' + v.seen + ')' : '')));
      if (v && v.pass) pass++;
      box.appendChild(d);
    });
    box.appendChild(el('p', '', pass + ' of ' + data.expect.length + ' expectations met'));
  }

  // ---- moving: step, back, play, exchanges, messages ----

  function play() {
    if (playing) return;
    if (cur >= n - 1) go(0);
    $('c-play').textContent = '|| pause';
    $('c-play').setAttribute('aria-label', 'Pause');
    $('c-play').classList.add('on');
    var tick = function () {
      if (cur >= n - 1) { pause(); return; }
      go(cur + 1);
      playing = setTimeout(tick, +$('c-speed').value);
    };
    playing = setTimeout(tick, +$('c-speed').value);
  }
  function pause() {
    if (playing) clearTimeout(playing);
    playing = null;
    $('c-play').textContent = '\u25b6 play';
    $('c-play').setAttribute('aria-label', 'Play');
    $('c-play').classList.remove('on');
  }
  function toggle() { if (playing) pause(); else play(); }
  function speed(dir) {
    var s = $('c-speed'), i = s.selectedIndex + dir;
    if (i >= 0 && i < s.options.length) s.selectedIndex = i;
  }
  // exchange goes to the message that opens the next (dir 1) or previous (dir -1)
  // exchange: both land on a request, as in the terminal walkthrough.
  function exchange(dir) {
    for (var i = cur + dir; i >= 0 && i < n; i += dir) if (steps[i].start) return go(i);
  }
  function message(dir) {
    for (var i = cur + dir; i >= 0 && i < n; i += dir) if (steps[i].msg) return go(i);
  }

  $('c-first').addEventListener('click', function () { pause(); go(0); });
  $('c-back').addEventListener('click', function () { pause(); go(cur - 1); });
  $('c-play').addEventListener('click', toggle);
  $('c-next').addEventListener('click', function () { pause(); go(cur + 1); });
  $('c-last').addEventListener('click', function () { pause(); go(n - 1); });
  $('c-help').addEventListener('click', function () { $('help').hidden = false; });
  $('help-close').addEventListener('click', function () { $('help').hidden = true; });
  $('progress').addEventListener('click', function (ev) {
    var r = this.getBoundingClientRect();
    go(Math.floor((ev.clientX - r.left) / r.width * n));
  });
  diagram.addEventListener('click', function (ev) {
    var g = ev.target.closest && ev.target.closest('#rows g[data-step]');
    if (!g || g.classList.contains('phase')) return;
    var i = bySeq[g.dataset.step];
    if (i !== undefined) go(i, true);
  });

  document.addEventListener('keydown', function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.target && (ev.target.tagName === 'INPUT' || ev.target.tagName === 'SELECT')) return;
    var k = ev.key;
    if (!$('help').hidden) {
      if (k === 'Escape' || k === '?') $('help').hidden = true;
      ev.preventDefault();
      return;
    }
    if (tab === 'events' && filter[k] !== undefined) { toggleFilter(k); ev.preventDefault(); return; }
    switch (k) {
      case 'ArrowRight': case 'n': pause(); go(cur + 1); break;
      case 'ArrowLeft': case 'p': pause(); go(cur - 1); break;
      case 'ArrowDown': case 'j': pause(); message(1); break;
      case 'ArrowUp': case 'k': pause(); message(-1); break;
      case ']': pause(); exchange(1); break;
      case '[': pause(); exchange(-1); break;
      case ' ': toggle(); break;
      case '+': case '=': speed(1); break;
      case '-': case '_': speed(-1); break;
      case 'Home': case 'g': pause(); go(0); break;
      case 'End': case 'G': pause(); go(n - 1); break;
      case '1': showTab('step'); break;
      case '2': showTab('events'); break;
      case '3': showTab('nodes'); break;
      case '4': showTab('lab'); break;
      case '/': showTab('events'); $('search').focus(); break;
      case '?': $('help').hidden = false; break;
      case 'Escape': pause(); if (query) { $('search').value = ''; query = ''; showEvents(); } break;
      default: return;
    }
    ev.preventDefault();
  });

  function fromHash() {
    var m = /^#step-(\d+)$/.exec(location.hash);
    if (m) { go(+m[1] - 1); return true; }
    return false;
  }
  window.addEventListener('hashchange', fromHash);
  if (!fromHash()) go(0);
  window.ikesim = { go: go, step: function () { return cur + 1; }, steps: steps, play: play, pause: pause, goToSeq: goToSeq };
})();
