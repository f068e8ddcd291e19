/*
 * The sandbox's phone simulator: shows what was texted to each number, sends replies through
 * POST /sandbox/inbound (the same SNS -> SQS -> inbound handler path as in AWS), and shows the
 * stored contact. Polls once a second; renders only what changed.
 */
(function () {
  "use strict";

  var POLL_MS = 1000;
  var state = { phone: null, ourNumber: null, rendered: {}, busy: false };

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function pretty(e164) {
    var m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164 || "");
    return m ? "+1 (" + m[1] + ") " + m[2] + "-" + m[3] : e164 || "";
  }

  function time(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function dateTime(iso) {
    var d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString([], { dateStyle: "medium", timeStyle: "medium" });
  }

  function getJson(url) {
    return fetch(url, { cache: "no-store" }).then(function (response) {
      if (response.status === 404) return null;
      if (!response.ok) throw new Error(url + ": HTTP " + response.status);
      return response.json();
    });
  }

  // Render ``key`` only when its data changed (no flicker, no repeated announcements).
  function changed(key, data) {
    var json = JSON.stringify(data);
    if (state.rendered[key] === json) return false;
    state.rendered[key] = json;
    return true;
  }

  // -- the selected phone --------------------------------------------------------------------------
  function phoneFromUrl() {
    // A literal '+' in ?phone=+1206... means plus, not a space.
    var params = new URLSearchParams(location.search.replace(/\+/g, "%2B"));
    var phone = (params.get("phone") || "").trim();
    return /^\+[1-9]\d{6,14}$/.test(phone) ? phone : null;
  }

  function select(phone) {
    state.phone = phone;
    state.rendered.messages = null;
    state.rendered.contact = null;
    state.rendered.phones = null;
    var url = new URL(location.href);
    url.search = phone ? "?phone=" + encodeURIComponent(phone) : "";
    history.replaceState(null, "", url);
    $("phone-title").textContent = phone ? pretty(phone) : "No phone selected";
    $("phone-subtitle").textContent = phone
      ? "Messages with " + pretty(state.ourNumber || "our number")
      : "Pick a phone on the left, or open one by number.";
    $("reply-text").disabled = !phone;
    $("send").disabled = !phone;
    document.querySelectorAll("[data-reply]").forEach(function (chip) { chip.disabled = !phone; });
    $("messages").textContent = "";
    $("reply-status").textContent = "";
    renderContact(null);
    refresh();
  }

  // -- rendering -----------------------------------------------------------------------------------
  function renderPhones(data) {
    var list = $("phone-list");
    var phones = data.phones.slice();
    if (state.phone && phones.indexOf(state.phone) < 0) phones.unshift(state.phone);
    if (!changed("phones", [phones, state.phone])) return;
    list.textContent = "";
    phones.forEach(function (phone) {
      var item = el("li");
      var button = el("button", "phone-item", pretty(phone));
      button.type = "button";
      button.dataset.phone = phone;
      if (phone === state.phone) button.setAttribute("aria-current", "true");
      button.addEventListener("click", function () { select(phone); });
      item.appendChild(button);
      list.appendChild(item);
    });
    $("no-phones").hidden = phones.length > 0;
  }

  function renderMessages(messages) {
    if (!changed("messages", messages)) return;
    var log = $("messages");
    log.textContent = "";
    if (!messages.length) {
      log.appendChild(el("li", "empty", "No messages with this number yet."));
      return;
    }
    messages.forEach(function (m) {
      var inbound = m.direction === "inbound";
      var item = el("li", "bubble " + (inbound ? "bubble-out" : "bubble-in"));
      item.dataset.direction = m.direction;
      item.appendChild(el("span", "visually-hidden", inbound ? "You sent: " : "Received: "));
      item.appendChild(el("p", "bubble-body", m.body));
      item.appendChild(el("span", "bubble-meta", time(m.sentAt)));
      log.appendChild(item);
    });
    log.scrollTop = log.scrollHeight;
  }

  var EVIDENCE = [
    ["firstName", "First name"],
    ["lastName", "Last name"],
    ["country", "Country"],
    ["source", "Source"],
    ["submittedAt", "Submitted", true],
    ["consentTextVersion", "Consent text version"],
    ["clientIp", "Client IP"],
    ["userAgent", "User agent"],
    ["phoneType", "Phone type"],
    ["carrier", "Carrier"],
    ["timezone", "Time zone"],
    ["confirmationSentAt", "Confirmation sent", true],
    ["pendingExpiresAt", "Pending until", true],
    ["confirmedAt", "Confirmed", true],
    ["confirmedBody", "Confirmed with"],
    ["optedOutAt", "Opted out", true],
    ["optedOutKeyword", "Opted out with"]
  ];

  function renderContact(contact) {
    var box = $("contact");
    if (!changed("contact", contact)) return;
    box.textContent = "";
    if (!contact) {
      box.appendChild(el("p", "empty", state.phone ? "No contact for this number yet." : "Pick a phone to see its contact."));
      return;
    }
    var status = el("p", "status status-" + String(contact.status).toLowerCase().replace(/_/g, "-"));
    status.id = "contact-status";
    status.textContent = contact.status;
    box.appendChild(status);
    var list = el("dl", "evidence");
    EVIDENCE.forEach(function (row) {
      var value = contact[row[0]];
      if (value === null || value === undefined || value === "") return;
      list.appendChild(el("dt", null, row[1]));
      list.appendChild(el("dd", null, row[2] ? dateTime(value) : String(value)));
    });
    box.appendChild(list);
    if (contact.events && contact.events.length) {
      box.appendChild(el("h3", null, "Audit trail"));
      var events = el("ol", "events");
      contact.events.forEach(function (e) {
        var item = el("li");
        item.appendChild(el("span", "event-type", e.type));
        item.appendChild(el("span", "event-time", time(e.at)));
        events.appendChild(item);
      });
      box.appendChild(events);
    }
  }

  // -- polling -------------------------------------------------------------------------------------
  function refresh() {
    var phone = state.phone;
    var jobs = [
      getJson("/sandbox/phones").then(function (data) {
        if (data) {
          if (data.ourNumber !== state.ourNumber) {
            state.ourNumber = data.ourNumber;
            $("our-number").textContent = pretty(data.ourNumber);
            if (state.phone) $("phone-subtitle").textContent = "Messages with " + pretty(data.ourNumber);
          }
          renderPhones(data);
        }
      })
    ];
    if (phone) {
      var q = encodeURIComponent(phone);
      jobs.push(
        getJson("/sandbox/conversation?phone=" + q).then(function (messages) {
          if (phone === state.phone) renderMessages(messages || []);
        }),
        getJson("/sandbox/contacts/" + q).then(function (contact) {
          if (phone === state.phone) renderContact(contact);
        })
      );
    }
    return Promise.all(jobs).catch(function () {
      /* the sandbox may be restarting: try again on the next tick */
    });
  }

  function poll() {
    refresh().then(function () { window.setTimeout(poll, POLL_MS); });
  }

  // -- replying ------------------------------------------------------------------------------------
  function send(body) {
    if (!state.phone || state.busy || !body.trim()) return;
    state.busy = true;
    $("send").disabled = true;
    $("reply-status").textContent = "Sending\u2026";
    fetch("/sandbox/inbound", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ originationNumber: state.phone, messageBody: body })
    })
      .then(function (response) {
        return response.json().then(function (data) {
          if (response.status !== 202) throw new Error(data.message || "HTTP " + response.status);
          var n = (data.replies || []).length;
          $("reply-status").textContent = n ? "Delivered. " + n + " repl" + (n === 1 ? "y" : "ies") + " came back." : "Delivered. No reply.";
          $("reply-text").value = "";
        });
      })
      .catch(function (err) {
        $("reply-status").textContent = "Not delivered: " + err.message;
      })
      .finally(function () {
        state.busy = false;
        $("send").disabled = !state.phone;
        refresh();
      });
  }

  function start() {
    $("reply").addEventListener("submit", function (event) {
      event.preventDefault();
      send($("reply-text").value);
    });
    document.querySelectorAll("[data-reply]").forEach(function (button) {
      button.addEventListener("click", function () { send(button.dataset.reply); });
    });
    $("open-phone").addEventListener("submit", function (event) {
      event.preventDefault();
      var raw = $("open-number").value.replace(/[\s().-]/g, "");
      if (/^\d{10}$/.test(raw)) raw = "+1" + raw;
      if (!/^\+[1-9]\d{6,14}$/.test(raw)) {
        $("open-number-message").textContent = "Use E.164, e.g. +12065550142";
        $("open-number").setAttribute("aria-invalid", "true");
        return;
      }
      $("open-number").removeAttribute("aria-invalid");
      $("open-number").value = "";
      select(raw);
    });
    $("reset").addEventListener("click", function () {
      if (!window.confirm("Forget every contact and message in the sandbox?")) return;
      fetch("/sandbox/reset", { method: "POST" }).then(function () { select(null); });
    });
    select(phoneFromUrl());
    poll();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
