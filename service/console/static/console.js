// commentmod console: keyboard moderation, decisions without a reload, "load more".
// Hand-written, no dependencies. Everything degrades to plain forms and links without it.
// Comment text is never touched here: the server renders it escaped, this only moves focus
// and writes server messages with textContent.
(function () {
  "use strict";
  var csrf = document.body.getAttribute("data-csrf") || "";
  var current = -1;

  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("#items .item"));
  }

  function select(index) {
    var list = items();
    if (!list.length) return;
    index = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (el) { el.classList.remove("current"); });
    current = index;
    var item = list[index];
    item.classList.add("current");
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
  }

  function currentItem() {
    var list = items();
    if (current < 0 && list.length) select(0);
    return list[current] || null;
  }

  function updateCount() {
    var count = document.getElementById("selected-count");
    if (count) count.textContent = String(document.querySelectorAll('input[name="ids"]:checked').length);
  }

  function say(item, text, kind) {
    var out = item.querySelector('[data-role="outcome"]');
    out.textContent = text;
    out.className = "outcome " + kind;
  }

  function decide(item, action) {
    var form = item.querySelector("form.decide");
    if (!form || item.classList.contains("deciding")) return;
    var data = new FormData(form);
    data.set("action", action);
    item.classList.add("deciding");
    // getAttribute: the form has controls named "action", which shadow form.action.
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Console-Fetch": "1", "X-CSRF-Token": csrf, "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) {
        throw new Error("Your session ended: reload the page and sign in again.");
      }
      return response.json();
    }).then(function (answer) {
      var status = item.querySelector('[data-role="status"]');
      status.textContent = answer.status;
      status.className = "status status-" + answer.status;
      item.setAttribute("data-status", answer.status);
      form.querySelector('input[name="expected_status"]').value = answer.status;
      say(item, answer.message, answer.ok ? "ok" : "error");
      if (answer.ok) {
        item.classList.add("decided");
        var list = items();
        if (item === list[current] && current < list.length - 1) select(current + 1);
      }
    }).catch(function (error) {
      say(item, error.message || "The decision could not be sent; try again.", "error");
    }).then(function () {
      item.classList.remove("deciding");
    });
  }

  function loadMore(link) {
    var url = link.getAttribute("data-fragment");
    fetch(url, { credentials: "same-origin", headers: { "X-Console-Fetch": "1" } })
      .then(function (response) {
        if (!response.ok) throw new Error("could not load more");
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var page = doc.querySelector(".page");
        var target = document.querySelector("#items .page");
        Array.prototype.slice.call(page.querySelectorAll(".item")).forEach(function (el) {
          target.appendChild(document.importNode(el, true));
        });
        var next = page.getAttribute("data-more");
        if (next) {
          link.href = next;
          link.setAttribute("data-fragment", next + "&fragment=1");
        } else {
          link.parentNode.removeChild(link);
        }
      })
      .catch(function () { window.location.href = link.href; });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("decide") || !event.submitter) return;
    event.preventDefault();
    var item = form.closest(".item");
    select(items().indexOf(item));
    decide(item, event.submitter.value);
  });

  document.addEventListener("change", function (event) {
    if (event.target.name === "ids") updateCount();
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#more");
    if (link) {
      event.preventDefault();
      loadMore(link);
    }
  });

  var keys = {
    j: function () { select(current + 1); },
    k: function () { select(current - 1); },
    a: function () { var i = currentItem(); if (i) decide(i, "approve"); },
    r: function () { var i = currentItem(); if (i) decide(i, "reject"); },
    s: function () { var i = currentItem(); if (i) decide(i, "spam"); },
    x: function () {
      var i = currentItem();
      var box = i && i.querySelector('input[name="ids"]');
      if (box) { box.checked = !box.checked; updateCount(); }
    },
    o: function () { var i = currentItem(); if (i) i.querySelector("a.open").click(); },
    "?": function () {
      var dialog = document.getElementById("keys");
      if (dialog && !dialog.open) dialog.showModal();
    }
  };

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) return;
    var dialog = document.getElementById("keys");
    if (dialog && dialog.open) return;
    var action = keys[event.key];
    if (!action || (event.key !== "?" && !document.getElementById("items"))) return;
    event.preventDefault();
    action();
  });

  document.addEventListener("DOMContentLoaded", function () {
    // Start on the first comment so the keys work at once; the page stays scrolled at the top.
    if (items().length) select(0);
    window.scrollTo(0, 0);
    updateCount();
  });
})();
