// ikesim's web view. The page holds the diagram as SVG and, in a JSON script element,
// every message's bytes and dissection. Clicking a message (or moving with the arrow
// keys) shows its field tree, the explanation of the selected field, and the bytes with
// that field highlighted: in the message, or in the decrypted plaintext for fields
// inside an encrypted payload. Text from the trace is only ever set as textContent.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('ikesim-data').textContent);
  var msgs = data.messages, byStep = {}, order = [];
  msgs.forEach(function (m, i) { byStep[m.step] = i; order.push(m.step); });
  var explain = {};
  data.explain.forEach(function (x) { explain[x.key] = x; });

  var $ = function (id) { return document.getElementById(id); };
  var panel = $('panel'), cur = -1, curField = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // lookup finds the explanation of a field: "Name: Value", "Parent > Name", "Name",
  // then the name without a trailing " #n" or the first word of "Transform ENCR".
  function lookup(f, parent) {
    var keys = [];
    if (f.v) keys.push(f.n + ': ' + f.v.split(' ')[0]);
    if (parent) keys.push(parent.n.replace(/ #\d+$/, '') + ' > ' + f.n);
    keys.push(f.n, f.n.replace(/ #\d+$/, ''), f.n.split(' ')[0]);
    for (var i = 0; i < keys.length; i++) if (explain[keys[i]]) return explain[keys[i]];
    return null;
  }

  function hexdump(pre, hex) {
    pre.textContent = '';
    var n = hex.length / 2;
    for (var off = 0; off < n; off += 16) {
      pre.appendChild(el('span', 'off', ('000' + off.toString(16)).slice(-4) + '  '));
      var ascii = [];
      for (var i = off; i < off + 16; i++) {
        if (i < n) {
          var s = el('span', 'b', hex.substr(2 * i, 2));
          s.dataset.i = i;
          pre.appendChild(s);
          var c = parseInt(hex.substr(2 * i, 2), 16);
          var a = el('span', 'a', c >= 32 && c < 127 ? String.fromCharCode(c) : '.');
          a.dataset.i = i;
          ascii.push(a);
        } else {
          pre.appendChild(document.createTextNode('  '));
        }
        pre.appendChild(document.createTextNode(i % 8 === 7 ? '  ' : ' '));
      }
      ascii.forEach(function (a) { pre.appendChild(a); });
      pre.appendChild(document.createTextNode('\n'));
    }
  }

  function highlight(pre, from, len) {
    var on = pre.querySelectorAll('.on');
    for (var i = 0; i < on.length; i++) on[i].classList.remove('on');
    if (len <= 0) return 0;
    var count = 0, first = null;
    pre.querySelectorAll('.b, .a').forEach(function (s) {
      var i = +s.dataset.i;
      if (i >= from && i < from + len) {
        s.classList.add('on');
        if (s.classList.contains('b')) { count++; if (!first) first = s; }
      }
    });
    if (first) first.scrollIntoView({ block: 'nearest' });
    return count;
  }

  // selectField shows field f's explanation and highlights its bytes; space is the
  // byte space its offsets index: the message, or the decrypted plaintext.
  function selectField(row, f, parent, space) {
    if (curField) curField.classList.remove('sel');
    curField = row;
    row.classList.add('sel');
    var box = $('p-explain');
    box.textContent = '';
    var head = el('p');
    head.appendChild(el('b', '', f.n));
    if (f.v) head.appendChild(document.createTextNode(' = ' + f.v));
    box.appendChild(head);
    if (f.x) box.appendChild(el('p', '', f.x));
    var x = lookup(f, parent);
    if (x) {
      var p = el('p', '', x.text);
      box.appendChild(p);
      box.appendChild(el('p', 'ref', (x.short ? x.short + ' \u00b7 ' : '') + x.ref));
    }
    if (f.e) box.appendChild(el('p', 'err', f.e));
    box.appendChild(el('p', 'ref', 'bytes ' + f.o + '\u2013' + (f.o + f.l - 1) + ' of the ' +
      (space === 'dec' ? 'decrypted payload' : 'message') + ' (' + f.l + ' bytes)'));
    highlight($('p-hex'), space === 'msg' ? f.o : -1, space === 'msg' ? f.l : 0);
    highlight($('p-dec'), space === 'dec' ? f.o : -1, space === 'dec' ? f.l : 0);
  }

  // tree builds the field list; fields below one with plaintext (p) index that
  // plaintext, which the "Decrypted" dump shows.
  function tree(f, parent, depth, space, ul) {
    var li = el('li');
    var row = el('span', 'row');
    var x = lookup(f, parent);
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
    row.addEventListener('click', function () { selectField(row, f, parent, space); });
    if (f.c) {
      var sub = el('ul');
      f.c.forEach(function (c) { tree(c, f, depth + 1, inner, sub); });
      li.appendChild(sub);
      // Open what holds structure (a layer, a message, SK and its plaintext); a
      // payload whose fields are all plain values starts closed, as one line.
      var open = depth === 0 || !!f.p || f.c.some(function (c) { return !!c.c; });
      if (!open) li.classList.add('closed');
      tog.textContent = open ? '\u25be' : '\u25b8';
      tog.addEventListener('click', function () {
        var closed = li.classList.toggle('closed');
        tog.textContent = closed ? '\u25b8' : '\u25be';
      });
    }
    ul.appendChild(li);
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

  function select(i) {
    if (i < 0 || i >= msgs.length) return;
    var m = msgs[i];
    var prev = document.querySelector('#diagram g.msg.sel');
    if (prev) prev.classList.remove('sel');
    var g = document.getElementById('m' + m.step);
    if (g) {
      g.classList.add('sel');
      g.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    }
    cur = i;
    curField = null;
    panel.hidden = false;
    $('p-title').textContent = m.label;
    $('p-meta').textContent = m.t + ' \u00b7 ' + m.from + ' \u2192 ' + m.to +
      (m.src ? ' \u00b7 ' + m.src + ' \u2192 ' + m.dst : '') + ' \u00b7 ' + (m.bytes.length / 2) + ' bytes' +
      (m.lost ? ' \u00b7 lost' : '') + (m.retx ? ' \u00b7 retransmission' : '') +
      (m.weak ? ' \u00b7 weak: ' + m.weak.join(', ') : '');
    $('p-note').textContent = m.note ? m.note + ' (' + m.noteref + ')' : '';
    var t = $('p-tree');
    t.textContent = '';
    if (m.fields) {
      var ul = el('ul', 'tree');
      tree(m.fields, null, 0, 'msg', ul);
      t.appendChild(ul);
    } else {
      t.appendChild(el('p', 'empty', 'no dissection'));
    }
    $('p-explain').textContent = 'Click a field to see what it is for and where its bytes are.';
    hexdump($('p-hex'), m.bytes);
    var plain = findPlain(m.fields);
    $('p-dec-sec').hidden = !plain;
    hexdump($('p-dec'), plain || '');
  }

  document.getElementById('diagram').addEventListener('click', function (ev) {
    var g = ev.target.closest && ev.target.closest('g.msg');
    if (g && byStep[g.dataset.step] !== undefined) select(byStep[g.dataset.step]);
  });
  $('p-close').addEventListener('click', function () { panel.hidden = true; });
  document.addEventListener('keydown', function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    var k = ev.key;
    if (k === 'ArrowDown' || k === 'ArrowRight' || k === 'j') {
      select(cur < 0 ? 0 : Math.min(cur + 1, msgs.length - 1));
    } else if (k === 'ArrowUp' || k === 'ArrowLeft' || k === 'k') {
      select(cur < 0 ? 0 : Math.max(cur - 1, 0));
    } else if (k === 'Escape') {
      panel.hidden = true;
      return;
    } else {
      return;
    }
    ev.preventDefault();
  });
  window.ikesim = { select: select, messages: msgs };
})();
