// Network page enhancement: hovering or focusing a group highlights it and its neighbours.
// The graph works without this file; it only adds and removes CSS classes.
(function () {
  "use strict";
  var svg = document.getElementById("network-graph");
  if (!svg) { return; }
  var edges = Array.prototype.slice.call(svg.querySelectorAll(".edge"));
  var byNode = {};
  edges.forEach(function (e) {
    [e.getAttribute("data-a"), e.getAttribute("data-b")].forEach(function (id) {
      (byNode[id] = byNode[id] || []).push(e);
    });
  });
  var nodes = {};
  Array.prototype.forEach.call(svg.querySelectorAll(".node"), function (n) {
    nodes[n.getAttribute("data-id")] = n;
  });

  function clear() {
    svg.classList.remove("focusing");
    Array.prototype.forEach.call(svg.querySelectorAll(".hi"), function (el) {
      el.classList.remove("hi");
    });
  }

  function focus(id) {
    clear();
    svg.classList.add("focusing");
    if (nodes[id]) { nodes[id].classList.add("hi"); }
    (byNode[id] || []).forEach(function (e) {
      e.classList.add("hi");
      var other = e.getAttribute("data-a") === id ? e.getAttribute("data-b") : e.getAttribute("data-a");
      if (nodes[other]) { nodes[other].classList.add("hi"); }
    });
  }

  Object.keys(nodes).forEach(function (id) {
    var target = nodes[id].parentNode.tagName.toLowerCase() === "a" ? nodes[id].parentNode : nodes[id];
    target.addEventListener("mouseenter", function () { focus(id); });
    target.addEventListener("focus", function () { focus(id); });
    target.addEventListener("mouseleave", clear);
    target.addEventListener("blur", clear);
  });
})();
