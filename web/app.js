/*
 * Text-alerts sign-up form. Plain JavaScript, no dependencies.
 *
 * Reads config.json (beside this page) at start-up:
 *   apiBaseUrl        the API's base URL, e.g. "https://abc.execute-api.us-east-1.amazonaws.com/v1";
 *                     "" means this page's own origin (the local sandbox)
 *   brandName         shown in the heading and the consent disclosure
 *   messageFrequency  e.g. "Up to 4 msgs/month"
 *   termsUrl          link to the terms of the text program
 *   privacyUrl        link to the privacy policy
 *   defaultCountry    ISO 3166 alpha-2 code selected at first, e.g. "US"
 *   countries         the codes offered in the country list, e.g. ["US", "CA"]
 */
(function () {
  "use strict";

  var VALIDATE_DELAY_MS = 500;
  var REQUEST_TIMEOUT_MS = 15000;
  var DIAL_CODES = { US: "1", CA: "1", MX: "52", GB: "44", IE: "353", AU: "61", NZ: "64", PR: "1" };
  // API field names -> the form's fields.
  var FIELD_FOR = {
    firstName: "firstName",
    lastName: "lastName",
    country: "country",
    destinationNumber: "phone",
    phoneNumber: "phone",
    consent: "consent"
  };

  var config = null;
  var submitting = false;
  var check = { timer: 0, controller: null, key: "", seq: 0 };

  function $(id) {
    return document.getElementById(id);
  }

  // -- configuration -------------------------------------------------------------------------------
  function text(value, fallback) {
    return typeof value === "string" && value.trim() ? value.trim() : fallback;
  }

  function safeUrl(value) {
    if (typeof value !== "string" || !value.trim()) return null;
    try {
      var url = new URL(value.trim(), document.baseURI);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function normalise(raw) {
    var data = raw && typeof raw === "object" ? raw : {};
    var countries = Array.isArray(data.countries) ? data.countries : ["US", "CA"];
    countries = countries
      .filter(function (c) { return typeof c === "string" && /^[A-Za-z]{2}$/.test(c); })
      .map(function (c) { return c.toUpperCase(); });
    if (!countries.length) countries = ["US"];
    var defaultCountry = text(data.defaultCountry, countries[0]).toUpperCase();
    if (countries.indexOf(defaultCountry) < 0) defaultCountry = countries[0];
    return {
      apiBaseUrl: typeof data.apiBaseUrl === "string" ? data.apiBaseUrl.trim() : "",
      brandName: text(data.brandName, "Our"),
      messageFrequency: text(data.messageFrequency, "Message frequency varies").replace(/\.+$/, ""),
      termsUrl: safeUrl(data.termsUrl),
      privacyUrl: safeUrl(data.privacyUrl),
      defaultCountry: defaultCountry,
      countries: countries
    };
  }

  function loadConfig() {
    return fetch("config.json", { cache: "no-store", credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error("config.json: HTTP " + response.status);
      return response.json();
    });
  }

  function apiUrl(path) {
    var base = config.apiBaseUrl ? new URL(config.apiBaseUrl, document.baseURI) : new URL("/", location.href);
    if (!/\/$/.test(base.pathname)) base.pathname += "/";
    return new URL(path, base).href;
  }

  // -- rendering the configured texts --------------------------------------------------------------
  function countryName(code) {
    try {
      var names = new Intl.DisplayNames([document.documentElement.lang || "en"], { type: "region" });
      return names.of(code) || code;
    } catch (e) {
      return code;
    }
  }

  function renderConfig() {
    var brand = config.brandName;
    document.querySelectorAll("[data-brand]").forEach(function (el) { el.textContent = brand; });
    $("title").textContent = "Get " + brand + " text alerts";
    document.title = "Sign up for " + brand + " text alerts";

    var select = $("country");
    select.textContent = "";
    config.countries.forEach(function (code) {
      var option = document.createElement("option");
      option.value = code;
      option.textContent = countryName(code) + (DIAL_CODES[code] ? " (+" + DIAL_CODES[code] + ")" : "");
      option.selected = code === config.defaultCountry;
      select.appendChild(option);
    });

    $("consent-label").querySelector("[data-disclosure]").textContent =
      "I agree to receive recurring automated text messages from " + brand + " at the number above. " +
      "Consent is not a condition of purchase. " + config.messageFrequency + ". " +
      "Msg & data rates may apply. Reply HELP for help, STOP to cancel.";

    setLink($("terms-link"), config.termsUrl);
    setLink($("privacy-link"), config.privacyUrl);
  }

  function setLink(link, url) {
    if (url) {
      link.href = url;
    } else {
      // No URL configured: keep the words, drop the dead link.
      var span = document.createElement("span");
      span.textContent = link.firstChild ? link.firstChild.textContent : link.textContent;
      link.replaceWith(span);
    }
  }

  // -- messages on fields and the form -------------------------------------------------------------
  function setFieldMessage(field, message, kind) {
    var el = $(field + "-message");
    var input = $(field);
    el.textContent = message || "";
    el.className = "field-message" + (message && kind ? " is-" + kind : "");
    // The number's status takes the hint's place: the layout does not jump while someone clicks.
    var hint = $(field + "-hint");
    if (hint) hint.hidden = Boolean(message);
    var wrapper = document.querySelector('[data-field="' + field + '"]');
    if (kind === "error" && message) {
      input.setAttribute("aria-invalid", "true");
      if (wrapper) wrapper.classList.add("has-error");
    } else {
      input.removeAttribute("aria-invalid");
      if (wrapper) wrapper.classList.remove("has-error");
    }
  }

  function clearErrors() {
    ["firstName", "lastName", "country", "consent"].forEach(function (f) { setFieldMessage(f, ""); });
    if ($("phone").getAttribute("aria-invalid")) setFieldMessage("phone", "");
    hideAlert();
  }

  function hideAlert() {
    var alert = $("form-alert");
    alert.hidden = true;
    $("form-alert-title").textContent = "";
    $("form-alert-list").textContent = "";
  }

  function showAlert(title, items) {
    var alert = $("form-alert");
    var list = $("form-alert-list");
    $("form-alert-title").textContent = title;
    list.textContent = "";
    (items || []).forEach(function (item) {
      var li = document.createElement("li");
      if (item.field) {
        var link = document.createElement("a");
        link.href = "#" + item.field;
        link.textContent = item.message;
        link.addEventListener("click", function (event) {
          event.preventDefault();
          $(item.field).focus();
        });
        li.appendChild(link);
      } else {
        li.textContent = item.message;
      }
      list.appendChild(li);
    });
    list.hidden = !list.childNodes.length;
    list.classList.toggle("plain", !(items || []).some(function (item) { return item.field; }));
    alert.hidden = false;
  }

  // Show the API's (or our own) field messages; focus the first field in error.
  function showFieldErrors(errors, title) {
    var items = [];
    var first = null;
    var order = ["firstName", "lastName", "country", "phone", "consent"];
    var byField = {};
    Object.keys(errors || {}).forEach(function (name) {
      var field = FIELD_FOR[name];
      var message = String(errors[name]);
      if (field) {
        if (!byField[field]) byField[field] = message;
      } else {
        items.push({ message: message });
      }
    });
    order.forEach(function (field) {
      if (!byField[field]) return;
      setFieldMessage(field, byField[field], "error");
      items.push({ field: field, message: byField[field] });
      if (!first) first = field;
    });
    showAlert(title, items);
    if (first) {
      $(first).focus();
    } else {
      $("form-alert").focus();
    }
  }

  // -- inline number check (POST /validate), debounced ---------------------------------------------
  function digitsIn(value) {
    return (value.match(/\d/g) || []).length;
  }

  function looksComplete(value) {
    var trimmed = value.trim();
    if (/[A-Za-z]/.test(trimmed)) return true; // say so at once
    return trimmed.charAt(0) === "+" ? digitsIn(trimmed) >= 8 : digitsIn(trimmed) >= 10;
  }

  function cancelCheck() {
    window.clearTimeout(check.timer);
    if (check.controller) check.controller.abort();
    check.controller = null;
  }

  function scheduleCheck() {
    cancelCheck();
    var value = $("phone").value;
    check.key = "";
    if (!value.trim()) {
      setFieldMessage("phone", "");
      return;
    }
    if (!looksComplete(value)) {
      if ($("phone").getAttribute("aria-invalid")) setFieldMessage("phone", "");
      return;
    }
    check.timer = window.setTimeout(runCheck, VALIDATE_DELAY_MS);
  }

  function runCheck() {
    var value = $("phone").value.trim();
    var country = $("country").value;
    var key = country + "|" + value;
    if (!value || key === check.key) return;
    cancelCheck();
    check.key = key;
    var seq = ++check.seq;
    var controller = "AbortController" in window ? new AbortController() : null;
    check.controller = controller;
    setFieldMessage("phone", "Checking the number\u2026", "pending");
    postJson("validate", { phoneNumber: value, country: country }, controller)
      .then(function (result) {
        if (seq !== check.seq) return;
        var body = result.body || {};
        if (result.status === 200 && body.valid && body.canReceiveSms) {
          setFieldMessage("phone", "We can text " + formatE164(body.e164) + ".", "ok");
        } else if (result.status === 200) {
          setFieldMessage("phone", body.message || "This number cannot receive text messages.", "error");
        } else if (result.status === 400 && body.errors) {
          setFieldMessage("phone", body.errors.phoneNumber || body.errors.country || body.message, "error");
        } else {
          setFieldMessage("phone", ""); // could not check now: the submission will tell
          check.key = "";
        }
      })
      .catch(function () {
        if (seq !== check.seq) return;
        setFieldMessage("phone", "");
        check.key = "";
      });
  }

  function formatE164(e164) {
    var m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164 || "");
    return m ? "+1 (" + m[1] + ") " + m[2] + "-" + m[3] : e164 || "this number";
  }

  // -- talking to the API --------------------------------------------------------------------------
  function postJson(path, payload, controller) {
    controller = controller || ("AbortController" in window ? new AbortController() : null);
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : 0;
    return fetch(apiUrl(path), {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(payload),
      signal: controller ? controller.signal : undefined
    })
      .then(function (response) {
        return response.text().then(function (raw) {
          var body = null;
          try {
            body = raw ? JSON.parse(raw) : null;
          } catch (e) {
            body = null;
          }
          return { status: response.status, body: body, headers: response.headers };
        });
      })
      .finally(function () {
        window.clearTimeout(timer);
      });
  }

  // -- submitting ----------------------------------------------------------------------------------
  function setBusy(busy) {
    submitting = busy;
    var button = $("submit");
    var form = $("signup");
    button.classList.toggle("is-busy", busy);
    button.setAttribute("aria-disabled", busy ? "true" : "false");
    form.setAttribute("aria-busy", busy ? "true" : "false");
    button.querySelector(".button-label").textContent = busy ? "Signing you up\u2026" : "Sign up";
    $("form-progress").textContent = busy ? "Submitting your sign-up\u2026" : "";
  }

  function values() {
    return {
      firstName: $("firstName").value.trim(),
      lastName: $("lastName").value.trim(),
      country: $("country").value,
      destinationNumber: $("phone").value.trim(),
      consent: $("consent").checked
    };
  }

  function onSubmit(event) {
    event.preventDefault();
    if (submitting) return;
    if (!config) {
      showAlert("Sign-up is not available right now. Please try again later.", []);
      return;
    }
    clearErrors();
    var v = values();
    var errors = {};
    if (!v.firstName) errors.firstName = "Enter your first name.";
    if (!v.lastName) errors.lastName = "Enter your last name.";
    if (!v.destinationNumber) errors.destinationNumber = "Enter your mobile number.";
    if (!v.consent) errors.consent = "Check the box to agree to receive text messages.";
    if (Object.keys(errors).length) {
      showFieldErrors(errors, "Please correct the highlighted fields.");
      return;
    }
    cancelCheck();
    setBusy(true);
    postJson("register", {
      firstName: v.firstName,
      lastName: v.lastName,
      country: v.country,
      destinationNumber: v.destinationNumber,
      source: location.origin + location.pathname,
      consent: true
    })
      .then(function (result) {
        var body = result.body || {};
        if (result.status >= 200 && result.status < 300) {
          showSuccess(body.message);
        } else if (result.status === 400 && body.errors && Object.keys(body.errors).length) {
          showFieldErrors(body.errors, "Please correct the highlighted fields.");
        } else if (result.status === 400) {
          showAlert(body.message || "Please check the form and try again.", []);
          $("form-alert").focus();
        } else if (result.status === 422) {
          showFieldErrors(
            body.errors || { destinationNumber: body.message },
            body.message || "We cannot text this number."
          );
        } else if (result.status === 503) {
          var seconds = Number(body.retryAfterSeconds || result.headers.get("Retry-After")) || 0;
          showAlert(
            body.message || "We could not process this right now.",
            seconds ? [{ message: "Please try again in " + seconds + " seconds." }] : []
          );
          $("form-alert").focus();
        } else if (result.status === 429) {
          showAlert("Too many attempts. Please wait a minute and try again.", []);
          $("form-alert").focus();
        } else {
          showAlert(body.message || "Something went wrong. Please try again.", []);
          $("form-alert").focus();
        }
      })
      .catch(function () {
        showAlert("We could not reach the sign-up service. Check your connection and try again.", []);
        $("form-alert").focus();
      })
      .finally(function () {
        setBusy(false);
      });
  }

  function showSuccess(message) {
    $("signup").hidden = true;
    document.querySelector(".lede").hidden = true;
    hideAlert();
    $("success-message").textContent =
      message || "Thanks! If this number can receive our texts, a message is on its way.";
    $("success").hidden = false;
    $("success-title").focus();
  }

  function startOver() {
    var form = $("signup");
    form.reset();
    $("country").value = config ? config.defaultCountry : "US";
    $("consent").checked = false;
    check.key = "";
    ["firstName", "lastName", "country", "phone", "consent"].forEach(function (f) { setFieldMessage(f, ""); });
    $("success").hidden = true;
    document.querySelector(".lede").hidden = false;
    form.hidden = false;
    $("firstName").focus();
  }

  // -- start ---------------------------------------------------------------------------------------
  function start() {
    var form = $("signup");
    $("consent").checked = false; // never pre-checked, even when the browser restores the form
    form.addEventListener("submit", onSubmit);
    $("phone").addEventListener("input", scheduleCheck);
    $("phone").addEventListener("blur", function () {
      window.clearTimeout(check.timer);
      if ($("phone").value.trim()) runCheck();
    });
    $("country").addEventListener("change", function () {
      check.key = "";
      if ($("phone").value.trim()) runCheck();
    });
    $("consent").addEventListener("change", function () {
      if ($("consent").checked) setFieldMessage("consent", "");
    });
    ["firstName", "lastName"].forEach(function (f) {
      $(f).addEventListener("input", function () {
        if ($(f).getAttribute("aria-invalid") && $(f).value.trim()) setFieldMessage(f, "");
      });
    });
    $("again").addEventListener("click", startOver);

    loadConfig()
      .then(function (raw) {
        config = normalise(raw);
        renderConfig();
      })
      .catch(function () {
        showAlert("Sign-up is not available right now. Please try again later.", []);
        $("submit").setAttribute("aria-disabled", "true");
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
