/*
 * The sandbox's phone simulator: shows what was texted to each number, sends replies through
 * POST /sandbox/inbound (the same SNS -> SQS -> inbound handler path as in AWS), and shows the
 * stored contact with its scheduled follow-ups ("Send due steps now" fires them through the real
 * follow-up function). Below, a WhatsApp broadcast form (POST /broadcasts) and what the fake WhatsApp
 * API received. Polls once a second; renders only what changed.
 */
(function () {
  "use strict";

  var POLL_MS = 1000;
  var state = { phone: null, ourNumber: null, rendered: {}, busy: false, sending: false, broadcasting: false, schedules: [] };

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

  // A schedule's time in the recipient's time zone, e.g. "Mon, Nov 23, 09:00 AM PST".
  function zoned(iso, timeZone) {
    var d = new Date(iso);
    if (isNaN(d)) return iso;
    try {
      return d.toLocaleString([], {
        timeZone: timeZone, weekday: "short", month: "short", day: "numeric",
        hour: "2-digit", minute: "2-digit", timeZoneName: "short"
      });
    } catch (err) {
      return dateTime(iso);
    }
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
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
    state.rendered.schedules = null;
    var url = new URL(location.href);
    url.search = phone ? "?phone=" + encodeURIComponent(phone) : "";
    history.replaceState(null, "", url);
    $("phone-title").textContent = phone ? pretty(phone) : "No phone selected";
    $("phone-subtitle").textContent = phone
      ? "Messages with " + pretty(state.ourNumber || "our number")
      : "Pick a phone from the list, or open one by number.";
    $("reply-text").disabled = !phone;
    $("send").disabled = !phone;
    document.querySelectorAll("[data-reply]").forEach(function (chip) { chip.disabled = !phone; });
    $("message-list").textContent = "";
    $("reply-status").textContent = "";
    $("send-due-status").textContent = "";
    $("followups").hidden = !phone;
    renderContact(null);
    renderSchedules(null);
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

  var DELIVERY_TICKS = {
    SENT: ["\u2713", "Sent"],
    DELIVERED: ["\u2713\u2713", "Delivered"],
    FAILED: ["\u2717", "Not delivered"]
  };

  function renderMessages(messages) {
    if (!changed("messages", messages)) return;
    var box = $("messages");
    var log = $("message-list");
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
      var meta = el("span", "bubble-meta", time(m.sentAt));
      if (!inbound && m.delivery) {
        // What the text's delivery events said last: the handset's tick.
        var tick = DELIVERY_TICKS[m.delivery] || DELIVERY_TICKS.SENT;
        var mark = el("span", "delivery delivery-" + m.delivery.toLowerCase(), " " + tick[0] + " " + tick[1]);
        mark.dataset.delivery = m.delivery;
        meta.appendChild(mark);
      }
      item.appendChild(meta);
      log.appendChild(item);
    });
    box.scrollTop = box.scrollHeight;
  }

  var EVIDENCE = [
    ["firstName", "First name"],
    ["lastName", "Last name"],
    ["country", "Country"],
    ["language", "Language"],
    ["source", "Source"],
    ["submittedAt", "Submitted", true],
    ["consentTextVersion", "Consent text version"],
    ["clientIp", "Client IP"],
    ["userAgent", "User agent"],
    ["phoneType", "Phone type"],
    ["carrier", "Carrier"],
    ["timezone", "Time zone"],
    ["confirmationSentAt", "Confirmation sent", true],
    ["confirmationDelivery", "Confirmation delivery"],
    ["pendingExpiresAt", "Pending until", true],
    ["confirmedAt", "Confirmed", true],
    ["confirmedBody", "Confirmed with"],
    ["nudgedAt", "Nudged", true],
    ["optedOutAt", "Opted out", true],
    ["optedOutKeyword", "Opted out with"]
  ];

  function evidenceText(value) {
    if (value && typeof value === "object" && value.status) {
      return value.status + " (" + value.eventType + ", " + dateTime(value.at) + ")";
    }
    return String(value);
  }

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
      list.appendChild(el("dd", null, row[2] ? dateTime(value) : evidenceText(value)));
    });
    box.appendChild(list);
    if (contact.events && contact.events.length) {
      box.appendChild(el("h3", null, "Audit trail"));
      var events = el("ol", "events");
      contact.events.forEach(function (e) {
        var item = el("li");
        item.appendChild(el("span", "event-type", e.type));
        if (e.type === "INBOUND" && e.detail && typeof e.detail.body === "string") {
          // What the handset sent, as the audit keeps it (a disputed opt-out is explained by its words).
          item.appendChild(el("q", "event-body", e.detail.body));
        }
        if (e.type === "INBOUND" && e.detail && e.detail.rule) {
          // Which rule classified the message (and the language its keyword tells), as the audit keeps it.
          var rule = e.detail.rule + (e.detail.language ? " \u00b7 " + e.detail.language : "");
          item.appendChild(el("span", "event-rule", rule));
        }
        item.appendChild(el("span", "event-time", time(e.at)));
        events.appendChild(item);
      });
      box.appendChild(events);
    }
  }

  // -- follow-ups ----------------------------------------------------------------------------------
  function renderSchedules(data) {
    state.schedules = data ? data.schedules : [];
    $("send-due").disabled = state.sending || !state.phone || !state.schedules.length;
    if (!changed("schedules", data)) return;
    var list = $("schedule-list");
    list.textContent = "";
    if (!data) {
      $("followups-hint").textContent = "";
      $("no-schedules").hidden = false;
      return;
    }
    var after = {};
    data.sequence.forEach(function (step) { after[step.id] = step.after; });
    $("followups-hint").textContent = data.sequence.length
      ? "Sequence: " + data.sequence.map(function (step) { return step.id + " +" + step.after; }).join(", ") +
        ". Sent " + data.sendWindow + " in the recipient's time zone."
      : "No follow-up sequence: FOLLOW_UP_SEQUENCE is empty.";
    data.schedules.forEach(function (s) {
      var item = el("li", "schedule");
      item.dataset.step = s.step;
      item.appendChild(el("span", "schedule-step", s.step));
      item.appendChild(el("span", "schedule-time", zoned(s.at, s.timezone)));
      var meta = s.timezone + (after[s.step] ? " \u00b7 " + after[s.step] + " after confirming" : "");
      if (s.deferrals) meta += " \u00b7 deferred " + s.deferrals + "\u00d7";
      item.appendChild(el("span", "schedule-meta", meta));
      list.appendChild(item);
    });
    $("no-schedules").hidden = data.schedules.length > 0;
  }

  function sendDue() {
    var phone = state.phone;
    if (!phone || state.sending) return;
    state.sending = true;
    $("send-due").disabled = true;
    $("send-due-status").textContent = "Sending\u2026";
    postJson("/sandbox/schedules/send-due", { phone: phone })
      .then(function (answer) {
        if (answer.status !== 200) throw new Error(answer.data.message || "HTTP " + answer.status);
        var results = answer.data.results || [];
        var sent = (answer.data.messages || []).length;
        $("send-due-status").textContent = results.length
          ? "Sent " + sent + " of " + results.length + " step" + (results.length === 1 ? "" : "s") + ": " +
            results.map(function (r) { return r.step + " " + (r.outcome || r.error); }).join(", ") + "."
          : "Nothing was due.";
      })
      .catch(function (err) {
        $("send-due-status").textContent = "Not sent: " + err.message;
      })
      .finally(function () {
        state.sending = false;
        refresh();
      });
  }

  // -- WhatsApp ------------------------------------------------------------------------------------
  function renderWhatsApp(messages) {
    if (!changed("whatsapp", messages)) return;
    var body = $("wa-messages");
    body.textContent = "";
    messages.slice().reverse().forEach(function (m) {  // newest first
      var row = el("tr");
      row.appendChild(el("td", "wa-to", pretty(m.to)));
      row.appendChild(el("td", null, m.template));
      row.appendChild(el("td", null, m.language));
      row.appendChild(el("td", "wa-time", time(m.receivedAt)));
      var ok = m.status >= 200 && m.status < 300;
      var status = el("td", "wa-status " + (ok ? "wa-ok" : "wa-error"), ok ? "accepted" : "HTTP " + m.status);
      if (m.messageId) status.title = m.messageId;
      row.appendChild(status);
      body.appendChild(row);
    });
    $("wa-empty").hidden = messages.length > 0;
  }

  function renderBroadcast(summary) {
    var box = $("broadcast-result");
    box.textContent = "";
    if (!summary) return;
    var title = el("p", "broadcast-summary");
    title.appendChild(el("strong", null, summary.template + " (" + summary.language + ")"));
    var counts = summary.results;
    title.appendChild(document.createTextNode(
      ": " + summary.queuedContacts + " queued \u00b7 " + counts.sent + " sent \u00b7 " +
      counts.failed + " failed \u00b7 " + counts.skipped + " skipped" +
      (summary.source ? " (source " + summary.source + ")" : "")
    ));
    box.appendChild(title);
    if (summary.batchesNotDelivered) {
      box.appendChild(el("p", "hint", summary.batchesNotDelivered + " queue record(s) were not delivered; see the terminal."));
    }
    var list = el("ul", "endpoint-list");
    list.setAttribute("aria-label", "Result per contact");
    summary.endpoints.forEach(function (e) {
      var item = el("li");
      item.appendChild(el("span", "endpoint-to", pretty(e.to)));
      item.appendChild(el("span", "endpoint-status endpoint-" + e.status, e.status));
      item.appendChild(el("span", "endpoint-detail", e.messageId || e.reason || ""));
      list.appendChild(item);
    });
    if (summary.endpoints.length) box.appendChild(list);
  }

  function broadcast() {
    if (state.broadcasting) return;
    var template = $("bc-template").value.trim();
    var language = $("bc-language").value.trim();
    var source = $("bc-source").value.trim();
    if (!template) {
      $("bc-template").setAttribute("aria-invalid", "true");
      $("broadcast-status").textContent = "Name the template to send.";
      $("bc-template").focus();
      return;
    }
    ["bc-template", "bc-language", "bc-source"].forEach(function (id) { $(id).removeAttribute("aria-invalid"); });
    var body = { template: template };
    if (language) body.language = language;
    if (source) body.source = source;
    state.broadcasting = true;
    $("bc-send").disabled = true;
    $("broadcast-status").textContent = "Sending\u2026";
    renderBroadcast(null);
    postJson("/broadcasts", body)
      .then(function (answer) {
        if (answer.status !== 202) {
          var errors = answer.data.errors || {};
          Object.keys(errors).forEach(function (field) {
            var input = $("bc-" + field.split(".")[0]);
            if (input) input.setAttribute("aria-invalid", "true");
          });
          var detail = Object.keys(errors).map(function (k) { return k + ": " + errors[k]; }).join(" ");
          throw new Error((answer.data.message || "HTTP " + answer.status) + (detail ? " " + detail : ""));
        }
        var id = answer.data.broadcastId;
        return getJson("/sandbox/broadcasts").then(function (all) {
          var summary = (all || []).filter(function (b) { return b.broadcastId === id; })[0];
          $("broadcast-status").textContent = answer.data.queuedContacts
            ? "Broadcast " + id.slice(0, 8) + " delivered."
            : "No confirmed contacts" + (source ? " from that source" : "") + ": nothing to send.";
          renderBroadcast(summary);
        });
      })
      .catch(function (err) {
        $("broadcast-status").textContent = "Not sent: " + err.message;
      })
      .finally(function () {
        state.broadcasting = false;
        $("bc-send").disabled = false;
        refresh();
      });
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
      }),
      getJson("/sandbox/whatsapp/messages").then(function (messages) {
        renderWhatsApp(messages || []);
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
        }),
        getJson("/sandbox/schedules?phone=" + q).then(function (data) {
          if (phone === state.phone) renderSchedules(data);
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
        $("open-number-message").textContent = "Not a phone number: use E.164, e.g. +12065550142";
        $("open-number-message").classList.add("is-error");
        $("open-number").setAttribute("aria-invalid", "true");
        $("open-number").focus();
        return;
      }
      $("open-number-message").textContent = "E.164, e.g. +12065550142";
      $("open-number-message").classList.remove("is-error");
      $("open-number").removeAttribute("aria-invalid");
      $("open-number").value = "";
      select(raw);
    });
    $("reset").addEventListener("click", function () {
      if (!window.confirm("Forget every contact, message, schedule and broadcast in the sandbox?")) return;
      fetch("/sandbox/reset", { method: "POST" }).then(function () {
        renderBroadcast(null);
        $("broadcast-status").textContent = "";
        select(null);
      });
    });
    $("send-due").addEventListener("click", sendDue);
    $("broadcast").addEventListener("submit", function (event) {
      event.preventDefault();
      broadcast();
    });
    $("bc-source-example").textContent = location.origin + "/";
    select(phoneFromUrl());
    poll();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
