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
 *   messageFrequencies  optional {"es": "...", "fr": "..."}: the frequency in the other languages
 *                     (else the translation of the default frequency, else messageFrequency as written)
 *   wafIntegrationUrl  optional (context wafChallenge): AWS WAF's integration URL; challenge.js loads from it
 *   resendCooldownSeconds  optional (RESEND_COOLDOWN_SECONDS, default 600): after a sign-up, how long
 *                     before the page offers "Didn't get it? Send again"
 *
 * Languages (en, es, fr; texts in i18n.js): ?lang=xx, else the browser's languages (navigator.languages,
 * i.e. Accept-Language), else English; the switch at the top changes it. The page's text, the disclosure
 * and the errors follow it (API errors by their codes, with the English text when a code is unknown), and
 * /register is told the language, so every text message comes in it too.
 *
 * The number is formatted as it is typed for the chosen country by libphonenumber-js (vendored in
 * vendor/, loaded before this file; without it the number is left as typed).
 */
(function () {
  "use strict";

  var VALIDATE_DELAY_MS = 500;
  var REQUEST_TIMEOUT_MS = 15000;
  var DEFAULT_COOLDOWN_SECONDS = 600;
  // Each field's name in the error summary: the summary links to the fields, whose own messages say why.
  var FIELD_LABELS = {
    firstName: "firstName",
    lastName: "lastName",
    country: "country",
    phone: "phone",
    consent: "consentField"
  };
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

  var TEXTS = window.OPTIN_TEXTS || {};
  var LANGUAGES = ["en", "es", "fr"];

  var config = null;
  var submitting = false;
  var check = { timer: 0, controller: null, key: "", seq: 0 };
  var language = "en";
  // What each message on the page says, as descriptors, so a change of language can say it again.
  var shown = { fields: {}, alert: null };
  // The last sign-up (for "send again") and its countdown.
  var lastSignup = { payload: null, display: "", readyAt: 0, timer: 0 };

  function $(id) {
    return document.getElementById(id);
  }

  // -- languages -----------------------------------------------------------------------------------
  function supported(tag) {
    var primary = String(tag || "").toLowerCase().split(/[-_]/)[0];
    return LANGUAGES.indexOf(primary) >= 0 && TEXTS[primary] ? primary : null;
  }

  function initialLanguage() {
    var asked = supported(new URLSearchParams(location.search).get("lang"));
    if (asked) return asked;
    var preferred = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
    for (var i = 0; i < preferred.length; i++) {
      var found = supported(preferred[i]);
      if (found) return found;
    }
    return "en";
  }

  function fill(template, params) {
    return String(template).replace(/\{(\w+)\}/g, function (whole, name) {
      return params && params[name] !== undefined ? String(params[name]) : whole;
    });
  }

  // The text ``key`` in the current language (English when a translation is missing).
  function t(key, params) {
    var table = TEXTS[language] || {};
    var value = table[key] !== undefined ? table[key] : (TEXTS.en || {})[key];
    return fill(value === undefined ? key : value, params);
  }

  // A message descriptor: {key, params}, {text} (as given) or {code, field, text, max} (an API code,
  // translated, or its English text).
  function say(message) {
    if (!message) return "";
    if (typeof message === "string") return message;
    if (message.key) return t(message.key, message.params);
    if (message.code === "country_not_served" && config) {
      return t("countryNotServed", { countries: servedCountries() });
    }
    if (message.code && language !== "en") {
      var table = TEXTS[language] || {};
      var codes = table.codes || {};
      var reasons = table.reasons || {};
      var translated = codes[message.field + "." + message.code] || codes[message.code] || reasons[message.code];
      if (translated) return fill(translated, { max: message.max || "" });
    }
    return message.text || (message.fallback ? t(message.fallback) : "");
  }

  function apiMessage(field, code, text, fallback) {
    var max = /(\d+)/.exec(text || "");
    return { code: code, field: field, text: text, fallback: fallback, max: max ? max[1] : "" };
  }

  // Text with {"strong": "..."} parts into ``element``.
  function renderRich(element, parts) {
    element.textContent = "";
    (Array.isArray(parts) ? parts : [parts]).forEach(function (part) {
      if (part && typeof part === "object" && part.strong) {
        var strong = document.createElement("strong");
        strong.textContent = part.strong;
        element.appendChild(strong);
      } else {
        element.appendChild(document.createTextNode(String(part)));
      }
    });
  }

  function frequencyText() {
    var own = config.messageFrequencies && config.messageFrequencies[language];
    if (own) return own;
    if (config.messageFrequency === TEXTS.en.defaultFrequency) return t("defaultFrequency");
    return config.messageFrequency;
  }

  function setLanguage(next) {
    language = supported(next) || "en";
    document.documentElement.lang = language;
    $("language").value = language;
    document.querySelectorAll("[data-i18n]").forEach(function (el) {
      el.textContent = t(el.getAttribute("data-i18n"));
    });
    renderRich(document.querySelector(".lede"), (TEXTS[language] || TEXTS.en).lede);
    renderRich(document.querySelector(".success-next"), (TEXTS[language] || TEXTS.en).successNext);
    if (!submitting) setBusy(false);
    if (config) renderConfig();
    Object.keys(shown.fields).forEach(function (field) {
      var entry = shown.fields[field];
      setFieldMessage(field, entry.message, entry.kind);
    });
    if (shown.alert) showAlert(shown.alert.title, shown.alert.items);
    if (!$("success").hidden) {
      $("success-message").textContent = t("accepted");
      renderNumber();
      tickCooldown();
    }
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
      countries: countries,
      messageFrequencies: frequencies(data.messageFrequencies),
      wafIntegrationUrl: /^https:\/\/[^\s"'<>]+$/.test(data.wafIntegrationUrl || "") ? data.wafIntegrationUrl : null,
      resendCooldownSeconds: typeof data.resendCooldownSeconds === "number" ? data.resendCooldownSeconds : null
    };
  }

  function frequencies(value) {
    var out = {};
    if (!value || typeof value !== "object") return out;
    Object.keys(value).forEach(function (lang) {
      if (typeof value[lang] === "string" && value[lang].trim()) out[lang] = value[lang].trim().replace(/\.+$/, "");
    });
    return out;
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

  // "United States and Canada", in the page's language.
  function servedCountries() {
    var names = config.countries.map(countryName);
    try {
      return new Intl.ListFormat(language, { style: "long", type: "conjunction" }).format(names);
    } catch (e) {
      return names.join(", ");
    }
  }

  function renderConfig() {
    var brand = config.brandName;
    document.querySelectorAll("[data-brand]").forEach(function (el) { el.textContent = brand; });
    $("title").textContent = t("heading", { brand: brand });
    document.title = t("pageTitle", { brand: brand });

    var select = $("country");
    var chosen = select.value || config.defaultCountry;
    select.textContent = "";
    config.countries.forEach(function (code) {
      var option = document.createElement("option");
      option.value = code;
      option.textContent = countryName(code) + (DIAL_CODES[code] ? " (+" + DIAL_CODES[code] + ")" : "");
      option.selected = code === chosen;
      select.appendChild(option);
    });

    $("consent-label").querySelector("[data-disclosure]").textContent = t("disclosure", {
      brand: brand,
      frequency: frequencyText()
    });

    setLink($("terms-link"), config.termsUrl);
    setLink($("privacy-link"), config.privacyUrl);
  }

  function setLink(link, url) {
    if (url) {
      link.href = url;
    } else if (link.hasAttribute("href")) {
      // No URL configured: keep the words, drop the dead link.
      ["href", "target", "rel"].forEach(function (name) { link.removeAttribute(name); });
      var note = link.querySelector(".visually-hidden");
      if (note) note.remove();
    }
  }

  // -- messages on fields and the form -------------------------------------------------------------
  function setFieldMessage(field, message, kind) {
    var el = $(field + "-message");
    var input = $(field);
    if (message) {
      shown.fields[field] = { message: message, kind: kind };
    } else {
      delete shown.fields[field];
    }
    message = say(message);
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
    shown.alert = null;
    alert.hidden = true;
    $("form-alert-title").textContent = "";
    $("form-alert-list").textContent = "";
  }

  function showAlert(title, items) {
    var alert = $("form-alert");
    var list = $("form-alert-list");
    shown.alert = { title: title, items: items };
    $("form-alert-title").textContent = say(title);
    list.textContent = "";
    (items || []).forEach(function (item) {
      var li = document.createElement("li");
      if (item.field) {
        var link = document.createElement("a");
        link.href = "#" + item.field;
        link.textContent = t(FIELD_LABELS[item.field] || item.field);
        link.addEventListener("click", function (event) {
          event.preventDefault();
          $(item.field).focus();
        });
        li.appendChild(link);
      } else {
        li.textContent = say(item.message);
      }
      list.appendChild(li);
    });
    list.hidden = !list.childNodes.length;
    list.classList.toggle("plain", !(items || []).some(function (item) { return item.field; }));
    alert.hidden = false;
  }

  // The API's field errors as message descriptors: its code translated, or its English text.
  function apiErrors(body, fallbackCode) {
    var errors = {};
    var codes = (body && body.codes) || {};
    Object.keys((body && body.errors) || {}).forEach(function (name) {
      errors[name] = apiMessage(name, codes[name] || fallbackCode, String(body.errors[name]));
    });
    return errors;
  }

  // Show the API's (or our own) field messages; focus the first field in error.
  function showFieldErrors(errors, title) {
    var items = [];
    var first = null;
    var order = ["firstName", "lastName", "country", "phone", "consent"];
    var byField = {};
    Object.keys(errors || {}).forEach(function (name) {
      var field = FIELD_FOR[name];
      var message = errors[name];
      if (field) {
        if (!byField[field]) byField[field] = message;
      } else {
        items.push({ message: message });
      }
    });
    order.forEach(function (field) {
      if (!byField[field]) return;
      setFieldMessage(field, byField[field], "error");
      items.push({ field: field }); // the summary names the field; its own message says why, once
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
    setFieldMessage("phone", { key: "checking" }, "pending");
    postJson("validate", { phoneNumber: value, country: country }, controller)
      .then(function (result) {
        if (seq !== check.seq) return;
        var body = result.body || {};
        if (result.status === 200 && body.valid && body.canReceiveSms) {
          setFieldMessage("phone", { key: "canText", params: { number: formatE164(body.e164) } }, "ok");
        } else if (result.status === 200) {
          setFieldMessage("phone", apiMessage("phoneNumber", body.reason, body.message, "cannotReceive"), "error");
        } else if (result.status === 400 && body.errors) {
          var errors = apiErrors(body);
          setFieldMessage("phone", errors.phoneNumber || errors.country || body.message, "error");
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

  // -- formatting as you type (libphonenumber-js's AsYouType, for the chosen country) ---------------
  function formatter() {
    var lib = window.libphonenumber;
    return lib && typeof lib.AsYouType === "function" ? new lib.AsYouType($("country").value || "US") : null;
  }

  // Reformat the number while it is typed at its end; letters are left for the API to name, and
  // deleting is never fought.
  function formatAsTyped(event) {
    var input = $("phone");
    var value = input.value;
    if (event && event.inputType && event.inputType.indexOf("delete") === 0) return;
    if (!/^[\d\s+().-]*$/.test(value) || !/\d/.test(value)) return;
    if (input.selectionStart !== null && input.selectionStart < value.length) return;
    var asYouType = formatter();
    if (!asYouType) return;
    var formatted = asYouType.input(value);
    if (formatted && formatted !== value && formatted.replace(/\D/g, "") === value.replace(/\D/g, "")) {
      input.value = formatted;
    }
  }

  // The number as the person typed it, with every digit but the last four hidden: +1 (•••) •••-0142.
  function maskedNumber(raw) {
    var lib = window.libphonenumber;
    var parse = lib && typeof lib.parsePhoneNumberFromString === "function" ? lib.parsePhoneNumberFromString : null;
    var parsed = parse ? parse(raw, $("country").value || "US") : null;
    var prefix = parsed ? "+" + parsed.countryCallingCode + " " : "";
    var national = parsed ? parsed.formatNational() : raw.trim();
    var total = (national.match(/\d/g) || []).length;
    var seen = 0;
    var masked = national.replace(/\d/g, function (digit) {
      seen += 1;
      return seen > total - 4 ? digit : "\u2022";
    });
    return { text: prefix + masked, last: national.replace(/\D/g, "").slice(-4) };
  }

  function formatE164(e164) {
    var m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164 || "");
    return m ? "+1 (" + m[1] + ") " + m[2] + "-" + m[3] : e164 || t("thisNumber");
  }

  // -- bot friction: the signed fill-time token and, when deployed, AWS WAF's challenge -------------
  var formToken = null;

  // GET /form-token when the page (or a new form) loads: the API signs the time, and a submission sent
  // sooner than a person could type is dropped quietly. No token (an API without one) is fine.
  function fetchFormToken() {
    formToken = null;
    return fetch(apiUrl("form-token"), { method: "GET", mode: "cors", credentials: "omit", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { formToken = body && typeof body.formToken === "string" ? body.formToken : null; })
      .catch(function () { formToken = null; });
  }

  // With context wafChallenge the stack names AWS WAF's integration URL: load its challenge.js (the CSP
  // allows exactly that origin) and send its token with POST /register.
  var wafReady = null;
  function loadWafChallenge() {
    var url = config && config.wafIntegrationUrl;
    if (!url || wafReady) return wafReady || Promise.resolve();
    wafReady = new Promise(function (resolve) {
      var script = document.createElement("script");
      script.src = url.replace(/\/+$/, "") + "/challenge.js";
      script.defer = true;
      script.onload = resolve;
      script.onerror = resolve; // without it the request goes out as is, and WAF decides
      document.head.appendChild(script);
    });
    return wafReady;
  }

  function wafHeaders() {
    if (!config || !config.wafIntegrationUrl) return Promise.resolve({});
    return loadWafChallenge().then(function () {
      var waf = window.AwsWafIntegration;
      if (!waf || typeof waf.getToken !== "function") return {};
      return waf.getToken().then(
        function (token) { return token ? { "X-Aws-Waf-Token": token } : {}; },
        function () { return {}; }
      );
    });
  }

  // -- talking to the API --------------------------------------------------------------------------
  function postJson(path, payload, controller, extraHeaders) {
    controller = controller || ("AbortController" in window ? new AbortController() : null);
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : 0;
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    Object.keys(extraHeaders || {}).forEach(function (name) { headers[name] = extraHeaders[name]; });
    return fetch(apiUrl(path), {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: headers,
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
    button.querySelector(".button-label").textContent = busy ? t("submitting") : t("submit");
    $("form-progress").textContent = busy ? t("progress") : "";
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
      showAlert({ key: "unavailable" }, []);
      return;
    }
    clearErrors();
    var v = values();
    var errors = {};
    if (!v.firstName) errors.firstName = { key: "enterFirstName" };
    if (!v.lastName) errors.lastName = { key: "enterLastName" };
    if (!v.destinationNumber) errors.destinationNumber = { key: "enterNumber" };
    if (!v.consent) errors.consent = { key: "checkConsent" };
    if (Object.keys(errors).length) {
      showFieldErrors(errors, { key: "correctFields" });
      return;
    }
    cancelCheck();
    setBusy(true);
    var payload = {
      firstName: v.firstName,
      lastName: v.lastName,
      country: v.country,
      destinationNumber: v.destinationNumber,
      source: location.origin + location.pathname,
      consent: true,
      language: language,
      website: $("website").value
    };
    if (formToken) payload.formToken = formToken;
    lastSignup.payload = payload;
    lastSignup.display = v.destinationNumber;
    wafHeaders()
      .then(function (headers) { return postJson("register", payload, null, headers); })
      .then(function (result) {
        var body = result.body || {};
        var english = language === "en";
        if (result.status >= 200 && result.status < 300) {
          showSuccess();
        } else if (result.status === 400 && body.errors && Object.keys(body.errors).length) {
          showFieldErrors(apiErrors(body), { key: "correctFields" });
        } else if (result.status === 400) {
          showAlert(english && body.message ? body.message : { key: "checkForm" }, []);
          $("form-alert").focus();
        } else if (result.status === 422) {
          var reason = body.reason || "cannot_deliver";
          var errors = body.errors ? apiErrors(body, reason) : {};
          if (!Object.keys(errors).length) {
            errors = { destinationNumber: apiMessage("destinationNumber", reason, body.message, "cannotText") };
          }
          showFieldErrors(errors, { key: "cannotText" }); // the reason is at the field, said once
        } else if (result.status === 503) {
          var seconds = Number(body.retryAfterSeconds || result.headers.get("Retry-After")) || 0;
          showAlert(
            english && body.message ? body.message : { key: "busy" },
            seconds ? [{ message: { key: "tryAgainIn", params: { seconds: seconds } } }] : []
          );
          $("form-alert").focus();
        } else if (result.status === 429) {
          showAlert({ key: "tooMany" }, []);
          $("form-alert").focus();
        } else {
          showAlert(english && body.message ? body.message : { key: "failed" }, []);
          $("form-alert").focus();
        }
      })
      .catch(function () {
        showAlert({ key: "offline" }, []);
        $("form-alert").focus();
      })
      .finally(function () {
        setBusy(false);
      });
  }

  function showSuccess() {
    $("signup").hidden = true;
    document.querySelector(".lede").hidden = true;
    hideAlert();
    $("success-message").textContent = t("accepted");
    renderNumber();
    $("resend-status").textContent = "";
    startCooldown();
    $("success").hidden = false;
    $("success-title").focus();
  }

  function renderNumber() {
    var box = $("success-number");
    box.textContent = "";
    if (!lastSignup.display) return;
    var masked = maskedNumber(lastSignup.display);
    var number = document.createElement("span");
    number.className = "masked-number";
    number.textContent = masked.text;
    number.setAttribute("aria-label", t("endingIn", { digits: masked.last }));
    var parts = t("yourNumber", { number: "\u0000" }).split("\u0000");
    box.appendChild(document.createTextNode(parts[0]));
    box.appendChild(number);
    box.appendChild(document.createTextNode(parts[1] || ""));
  }

  // -- "didn't get it? send again", once the cooldown allows ---------------------------------------
  function cooldownSeconds() {
    var seconds = Number(config && config.resendCooldownSeconds);
    return isFinite(seconds) && seconds >= 0 ? seconds : DEFAULT_COOLDOWN_SECONDS;
  }

  function startCooldown(seconds) {
    window.clearInterval(lastSignup.timer);
    lastSignup.readyAt = Date.now() + 1000 * (seconds === undefined ? cooldownSeconds() : seconds);
    $("resend").hidden = true;
    tickCooldown();
    lastSignup.timer = window.setInterval(tickCooldown, 1000);
  }

  function tickCooldown() {
    var left = Math.max(0, Math.ceil((lastSignup.readyAt - Date.now()) / 1000));
    if (left > 0) {
      var time = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
      $("resend-wait").textContent = t("resendIn", { time: time });
      return;
    }
    window.clearInterval(lastSignup.timer);
    $("resend-wait").textContent = "";
    if ($("resend").hidden) {
      $("resend").hidden = false;
      $("resend-status").textContent = t("resendReady");
    }
  }

  function resend() {
    if (!lastSignup.payload || submitting) return;
    submitting = true;
    var button = $("resend");
    button.setAttribute("aria-disabled", "true");
    $("resend-status").textContent = t("resending");
    wafHeaders()
      .then(function (headers) { return postJson("register", lastSignup.payload, null, headers); })
      .then(function (result) {
        var body = result.body || {};
        if (result.status >= 200 && result.status < 300) {
          $("resend-status").textContent = t("resent");
          startCooldown();
        } else if (result.status === 429 || result.status === 503) {
          var seconds = Number(body.retryAfterSeconds || result.headers.get("Retry-After")) || 60;
          $("resend-status").textContent = t("tryAgainIn", { seconds: seconds });
          startCooldown(seconds);
        } else {
          $("resend-status").textContent = t("failed");
        }
      })
      .catch(function () {
        $("resend-status").textContent = t("offline");
      })
      .finally(function () {
        submitting = false;
        button.removeAttribute("aria-disabled");
      });
  }

  function startOver() {
    var form = $("signup");
    form.reset();
    $("country").value = config ? config.defaultCountry : "US";
    $("consent").checked = false;
    check.key = "";
    ["firstName", "lastName", "country", "phone", "consent"].forEach(function (f) { setFieldMessage(f, ""); });
    $("success").hidden = true;
    window.clearInterval(lastSignup.timer);
    lastSignup.payload = null;
    document.querySelector(".lede").hidden = false;
    form.hidden = false;
    $("firstName").focus();
    fetchFormToken(); // a new form: a new fill time
  }

  // -- start ---------------------------------------------------------------------------------------
  function start() {
    var form = $("signup");
    $("consent").checked = false; // never pre-checked, even when the browser restores the form
    $("language").addEventListener("change", function () {
      setLanguage($("language").value);
    });
    setLanguage(initialLanguage());
    form.addEventListener("submit", onSubmit);
    $("phone").addEventListener("input", function (event) {
      formatAsTyped(event);
      scheduleCheck();
    });
    $("phone").addEventListener("blur", function () {
      window.clearTimeout(check.timer);
      if ($("phone").value.trim()) runCheck();
    });
    $("country").addEventListener("change", function () {
      check.key = "";
      formatAsTyped();
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
    $("resend").addEventListener("click", resend);

    loadConfig()
      .then(function (raw) {
        config = normalise(raw);
        renderConfig();
        fetchFormToken();
        loadWafChallenge();
      })
      .catch(function () {
        showAlert({ key: "unavailable" }, []);
        $("submit").setAttribute("aria-disabled", "true");
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
