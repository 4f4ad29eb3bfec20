// Network page enhancement (the drawing works without it):
// - hovering, focusing or tapping a group highlights it and its neighbours and writes its
//   name (only the largest groups are named on the drawing); on a touch screen the first tap
//   shows, a second tap on the same group opens it;
// - pan and zoom by changing the SVG viewBox: drag, wheel, pinch, the +/−/Fit buttons, and
//   arrows / + / − / 0 on the keyboard when the drawing has focus. No library.
(function () {
  "use strict";
  var svg = document.getElementById("network-graph");
  if (!svg) { return; }

  // ---- highlight and names -------------------------------------------------------------
  var edges = Array.prototype.slice.call(svg.querySelectorAll(".edge"));
  var byNode = {};
  edges.forEach(function (e) {
    [e.getAttribute("data-a"), e.getAttribute("data-b")].forEach(function (id) {
      (byNode[id] = byNode[id] || []).push(e);
    });
  });
  var nodes = {};
  Array.prototype.forEach.call(svg.querySelectorAll("circle.node"), function (n) {
    nodes[n.getAttribute("data-id")] = n;
  });
  var labels = {};
  Array.prototype.forEach.call(svg.querySelectorAll(".node-label"), function (t) {
    labels[t.getAttribute("data-id")] = t;
  });

  function clear() {
    svg.classList.remove("focusing");
    Array.prototype.forEach.call(svg.querySelectorAll(".hi, .shown"), function (el) {
      el.classList.remove("hi");
      el.classList.remove("shown");
    });
  }

  function focus(id) {
    clear();
    svg.classList.add("focusing");
    if (nodes[id]) { nodes[id].classList.add("hi"); }
    if (labels[id]) { labels[id].classList.add("hi"); labels[id].classList.add("shown"); }
    (byNode[id] || []).forEach(function (e) {
      e.classList.add("hi");
      var other = e.getAttribute("data-a") === id ? e.getAttribute("data-b") : e.getAttribute("data-a");
      if (nodes[other]) { nodes[other].classList.add("hi"); }
      if (labels[other] && !labels[other].classList.contains("hover-label")) { labels[other].classList.add("hi"); }
    });
  }

  var lastPointer = "mouse";
  var armed = null;
  var dragged = false;
  Array.prototype.forEach.call(svg.querySelectorAll(".node-link"), function (target) {
    var id = target.getAttribute("data-id");
    // The name shows on hover and focus; the hover-only <title> would double it.
    Array.prototype.forEach.call(target.querySelectorAll("title"), function (t) { t.remove(); });
    target.addEventListener("pointerdown", function (e) { lastPointer = e.pointerType || "mouse"; });
    target.addEventListener("mouseenter", function () { focus(id); });
    target.addEventListener("focus", function () { focus(id); });
    target.addEventListener("mouseleave", function () { if (document.activeElement !== target) { clear(); } });
    target.addEventListener("blur", clear);
    target.addEventListener("click", function (e) {
      if (dragged) { e.preventDefault(); dragged = false; return; }
      if (lastPointer === "touch" && armed !== id) {
        e.preventDefault();
        armed = id;
        focus(id);
      }
      lastPointer = "mouse";
    });
  });

  // ---- pan and zoom ----------------------------------------------------------------------
  var base = (svg.getAttribute("data-view-box") || svg.getAttribute("viewBox")).split(/[\s,]+/).map(Number);
  var vb = base.slice();
  var MIN = base[2] / 25;
  var MAX = base[2] * 1.5;

  function apply() { svg.setAttribute("viewBox", vb.map(function (v) { return Math.round(v * 10) / 10; }).join(" ")); }

  function toSvg(clientX, clientY) {
    var m = svg.getScreenCTM();
    if (!m) { return {x: vb[0] + vb[2] / 2, y: vb[1] + vb[3] / 2}; }
    var pt = svg.createSVGPoint();
    pt.x = clientX;
    pt.y = clientY;
    return pt.matrixTransform(m.inverse());
  }

  function zoom(factor, cx, cy) {
    var w = Math.min(MAX, Math.max(MIN, vb[2] * factor));
    var f = w / vb[2];
    if (cx === undefined) { cx = vb[0] + vb[2] / 2; cy = vb[1] + vb[3] / 2; }
    vb = [cx - (cx - vb[0]) * f, cy - (cy - vb[1]) * f, w, vb[3] * f];
    apply();
  }

  function pan(dx, dy) { vb[0] += dx; vb[1] += dy; apply(); }

  function reset() { vb = base.slice(); apply(); }

  svg.addEventListener("wheel", function (e) {
    e.preventDefault();
    var p = toSvg(e.clientX, e.clientY);
    zoom(Math.exp(e.deltaY * 0.0015), p.x, p.y);
  }, {passive: false});

  var pointers = {};
  var start = null;
  var pinch = null;
  svg.addEventListener("pointerdown", function (e) {
    pointers[e.pointerId] = {x: e.clientX, y: e.clientY};
    var ids = Object.keys(pointers);
    if (ids.length === 1) {
      start = {x: e.clientX, y: e.clientY, vb: vb.slice(), id: e.pointerId};
      dragged = false;
    } else if (ids.length === 2) {
      var a = pointers[ids[0]], b = pointers[ids[1]];
      pinch = {d: Math.hypot(a.x - b.x, a.y - b.y), w: vb[2]};
      start = null;
    }
  });
  svg.addEventListener("pointermove", function (e) {
    if (!pointers[e.pointerId]) { return; }
    pointers[e.pointerId] = {x: e.clientX, y: e.clientY};
    var ids = Object.keys(pointers);
    if (pinch && ids.length === 2) {
      var a = pointers[ids[0]], b = pointers[ids[1]];
      var d = Math.hypot(a.x - b.x, a.y - b.y);
      if (d > 0) {
        var mid = toSvg((a.x + b.x) / 2, (a.y + b.y) / 2);
        zoom((pinch.w * pinch.d / d) / vb[2], mid.x, mid.y);
      }
      dragged = true;
      return;
    }
    if (!start || start.id !== e.pointerId) { return; }
    var dxPx = e.clientX - start.x, dyPx = e.clientY - start.y;
    if (!dragged && Math.hypot(dxPx, dyPx) < 6) { return; }
    if (!dragged) {
      dragged = true;
      svg.classList.add("panning");
      if (svg.setPointerCapture) { svg.setPointerCapture(e.pointerId); }
    }
    var rect = svg.getBoundingClientRect();
    var scale = Math.max(start.vb[2] / rect.width, start.vb[3] / rect.height);
    vb[0] = start.vb[0] - dxPx * scale;
    vb[1] = start.vb[1] - dyPx * scale;
    apply();
  });
  function end(e) {
    delete pointers[e.pointerId];
    if (Object.keys(pointers).length < 2) { pinch = null; }
    if (start && start.id === e.pointerId) { start = null; }
    svg.classList.remove("panning");
    if (dragged) { setTimeout(function () { dragged = false; }, 0); }
  }
  svg.addEventListener("pointerup", end);
  svg.addEventListener("pointercancel", end);
  svg.addEventListener("pointerleave", function (e) { if (e.pointerType === "mouse") { end(e); } });

  svg.setAttribute("tabindex", "0");
  svg.addEventListener("keydown", function (e) {
    if (e.target !== svg) { return; }
    var step = vb[2] / 10;
    var keys = {ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step]};
    if (keys[e.key]) { pan(keys[e.key][0], keys[e.key][1]); e.preventDefault(); }
    else if (e.key === "+" || e.key === "=") { zoom(1 / 1.4); e.preventDefault(); }
    else if (e.key === "-" || e.key === "_") { zoom(1.4); e.preventDefault(); }
    else if (e.key === "0") { reset(); e.preventDefault(); }
  });

  var controls = document.getElementById("net-controls");
  if (controls) {
    controls.hidden = false;
    controls.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-zoom]");
      if (!b) { return; }
      var z = b.getAttribute("data-zoom");
      if (z === "in") { zoom(1 / 1.4); } else if (z === "out") { zoom(1.4); } else { reset(); }
    });
  }
  window.crmNetwork = {zoom: zoom, pan: pan, reset: reset, viewBox: function () { return vb.slice(); }};
})();
