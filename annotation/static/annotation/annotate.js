/*
 * tiebreak — the annotation page.
 *
 * Progressive enhancement of a plain form (which works without this script):
 *  - every action has a key (see the shortcut sheet in annotate.html, or press "?");
 *  - submit posts JSON to the form's own URL with the form's idempotency key, so a
 *    double click or a retry after a network error never stores two judgments;
 *  - the response carries the next pair's HTML, which replaces the workspace at once,
 *    and focus goes to its first criterion;
 *  - time on the pair is measured from display to submit (performance.now()).
 *
 * No inline script or style anywhere: the Content-Security-Policy forbids both.
 */
(function () {
  "use strict";

  var root = document.getElementById("annotate");
  if (!root) {
    return;
  }
  var workspace = document.getElementById("workspace");
  var liveStatus = document.getElementById("live-status");
  var shortcutsDialog = document.getElementById("shortcuts-dialog");
  var guidelinesDialog = document.getElementById("guidelines-dialog");

  var state = { t0: performance.now(), current: 0, inFlight: false, lastFocus: null };

  // --- Lookups ---------------------------------------------------------------------------

  function form() {
    return document.getElementById("judgment-form");
  }

  function sections() {
    var f = form();
    return f ? Array.prototype.slice.call(f.querySelectorAll("[data-nav]")) : [];
  }

  function checkedValue(f, name) {
    var input = f.querySelector('input[name="' + CSS.escape(name) + '"]:checked');
    return input && !input.disabled ? input.value : null;
  }

  function legendText(el) {
    var legend = el.querySelector("legend");
    return legend ? legend.textContent.trim() : "";
  }

  function primaryGroup(section) {
    var first = section.querySelector('input[type="radio"]');
    return first ? first.name : null;
  }

  // --- The current section ---------------------------------------------------------------

  function focusSection(section, scroll) {
    var name = primaryGroup(section);
    if (!name) {
      return;
    }
    var target =
      section.querySelector('input[name="' + CSS.escape(name) + '"]:checked') ||
      section.querySelector('input[name="' + CSS.escape(name) + '"]');
    if (target) {
      target.focus({ preventScroll: true });
    }
    if (scroll) {
      section.scrollIntoView({ block: "nearest" });
    }
  }

  function setCurrent(index, options) {
    var list = sections();
    if (!list.length) {
      return;
    }
    index = Math.max(0, Math.min(list.length - 1, index));
    state.current = index;
    list.forEach(function (el, i) {
      el.classList.toggle("is-current", i === index);
    });
    options = options || {};
    if (options.focus !== false) {
      // A fresh page keeps its scroll position at the top, where the prompt is.
      focusSection(list[index], options.scroll !== false);
    }
  }

  function isOverall(section) {
    return section && section.getAttribute("data-kind") === "overall";
  }

  function choose(key) {
    var section = sections()[state.current];
    if (!section) {
      return false;
    }
    var name = primaryGroup(section);
    var attribute = key === "t" ? '[value="tie"]' : '[data-key="' + key + '"]';
    var input = section.querySelector('input[name="' + CSS.escape(name) + '"]' + attribute);
    if (!input && key === "0") {
      // On a scale that reaches 10, "0" is the 10.
      input = section.querySelector('input[name="' + CSS.escape(name) + '"][data-key="10"]');
    }
    if (!input || input.disabled) {
      return false;
    }
    input.checked = true;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    if (!isOverall(section) && state.current < sections().length - 1) {
      setCurrent(state.current + 1);
    } else {
      input.focus({ preventScroll: true });
    }
    return true;
  }

  function setStrength(key) {
    var f = form();
    var fieldset = document.getElementById("f-strength");
    if (!f || !fieldset) {
      return;
    }
    var overallIndex = sections().findIndex(isOverall);
    if (overallIndex >= 0) {
      setCurrent(overallIndex);
    }
    if (fieldset.disabled) {
      setStatus("A tie has no strength.", false);
      return;
    }
    var input = fieldset.querySelector('input[data-key="' + key + '"]');
    if (input) {
      input.checked = true;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  function syncStrength() {
    var f = form();
    var fieldset = document.getElementById("f-strength");
    if (!f || !fieldset) {
      return;
    }
    var tie = checkedValue(f, "choice") === "tie";
    fieldset.disabled = tie;
    if (tie) {
      fieldset.querySelectorAll("input").forEach(function (input) {
        input.checked = false;
      });
      var error = f.querySelector('[data-error-for="strength"]');
      if (error) {
        error.textContent = "";
      }
    }
  }

  // --- Errors and status -----------------------------------------------------------------

  function setStatus(message, isError, link) {
    var el = document.getElementById("form-status");
    if (!el) {
      return;
    }
    el.textContent = message;
    el.classList.toggle("is-error", !!isError);
    if (link) {
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      el.appendChild(document.createTextNode(" "));
      el.appendChild(a);
    }
  }

  function markErrors() {
    var f = form();
    if (!f) {
      return;
    }
    f.querySelectorAll(".section, .criterion-rating, .field").forEach(function (el) {
      var has = Array.prototype.some.call(el.querySelectorAll(".field-error"), function (p) {
        return p.textContent.trim() !== "";
      });
      el.classList.toggle("has-error", has);
    });
  }

  function clearErrors() {
    var f = form();
    if (!f) {
      return;
    }
    f.querySelectorAll("[data-error-for]").forEach(function (el) {
      el.textContent = "";
    });
    markErrors();
  }

  function firstErrorSectionIndex() {
    var list = sections();
    for (var i = 0; i < list.length; i += 1) {
      var holder = list[i].closest(".criterion-rating") || list[i];
      var errors = holder.querySelectorAll(".field-error");
      for (var j = 0; j < errors.length; j += 1) {
        if (errors[j].textContent.trim() !== "") {
          return i;
        }
      }
    }
    return -1;
  }

  function showErrors(errors) {
    var f = form();
    clearErrors();
    var general = [];
    Object.keys(errors).forEach(function (field) {
      var text = [].concat(errors[field]).join(" ");
      var el = field === "__all__" ? null : f.querySelector('[data-error-for="' + CSS.escape(field) + '"]');
      if (el) {
        el.textContent = text;
      } else {
        general.push(text);
      }
    });
    var box = f.querySelector('[data-error-for="__all__"]');
    if (box) {
      box.textContent = general.join(" ");
    }
    markErrors();
    var index = firstErrorSectionIndex();
    if (index >= 0) {
      setCurrent(index);
    } else if (errors.rationale) {
      document.getElementById("f-rationale").focus();
    }
  }

  function clearErrorFor(input) {
    var holder = input.closest("[data-field]");
    var f = form();
    if (!holder || !f) {
      return;
    }
    var field = input.name === "strength" ? "strength" : holder.getAttribute("data-field");
    var el = f.querySelector('[data-error-for="' + CSS.escape(field) + '"]');
    if (el) {
      el.textContent = "";
    }
    markErrors();
  }

  // --- Reading the form ------------------------------------------------------------------

  function validate() {
    var f = form();
    var errors = {};
    f.querySelectorAll('fieldset[data-kind="compare"]').forEach(function (fs) {
      var field = fs.getAttribute("data-field");
      if (!checkedValue(f, field)) {
        errors[field] = ["Answer “" + legendText(fs) + "”."];
      }
    });
    f.querySelectorAll("fieldset.criterion-rating").forEach(function (fs) {
      var field = fs.getAttribute("data-field");
      var missing = ["left", "right"].some(function (side) {
        return !checkedValue(f, field + "." + side);
      });
      if (missing) {
        errors[field] = ["Answer “" + legendText(fs) + "”: give each response a score."];
      }
    });
    var choice = checkedValue(f, "choice");
    if (!choice) {
      errors.choice = ["Choose the better response, or Tie."];
    } else if (choice !== "tie" && !checkedValue(f, "strength")) {
      errors.strength = ["Say how much better: slightly, clearly or much."];
    }
    return errors;
  }

  function payload() {
    var f = form();
    var criteria = {};
    f.querySelectorAll('fieldset[data-kind="compare"]').forEach(function (fs) {
      var field = fs.getAttribute("data-field");
      criteria[field.slice("criteria.".length)] = checkedValue(f, field);
    });
    f.querySelectorAll("fieldset.criterion-rating").forEach(function (fs) {
      var field = fs.getAttribute("data-field");
      criteria[field.slice("criteria.".length)] = {
        left: parseInt(checkedValue(f, field + ".left"), 10),
        right: parseInt(checkedValue(f, field + ".right"), 10),
      };
    });
    var choice = checkedValue(f, "choice");
    var strength = checkedValue(f, "strength");
    return {
      choice: choice,
      strength: choice === "tie" || strength === null ? null : parseInt(strength, 10),
      criteria: criteria,
      rationale: f.elements.rationale.value,
      seconds: Math.round(performance.now() - state.t0) / 1000,
    };
  }

  function csrfToken(f) {
    var input = f.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function idempotencyKey(f) {
    var input = f.elements.idempotency_key;
    if (!input.value && window.crypto && crypto.randomUUID) {
      input.value = crypto.randomUUID();
    }
    return input.value;
  }

  // --- Talking to the server -------------------------------------------------------------

  function setBusy(busy) {
    var f = form();
    if (!f) {
      return;
    }
    if (busy) {
      state.lastFocus = document.activeElement;
    }
    ["submit-button", "skip-button"].forEach(function (id) {
      var button = document.getElementById(id);
      if (button) {
        button.disabled = busy;
      }
    });
    f.setAttribute("aria-busy", busy ? "true" : "false");
    if (!busy) {
      // Disabling the focused button drops focus to <body>; put it back.
      var active = document.activeElement;
      if (!active || active === document.body) {
        var last = state.lastFocus;
        if (last && document.contains(last) && !last.disabled && last !== document.body) {
          last.focus();
        } else {
          setCurrent(state.current);
        }
      }
    }
  }

  function post(url, options) {
    var f = form();
    var headers = {
      Accept: "application/json",
      "X-CSRFToken": csrfToken(f),
    };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    if (options.key) {
      headers["Idempotency-Key"] = options.key;
    }
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return null;
        })
        .then(function (data) {
          return { response: response, data: data };
        });
    });
  }

  function explainFailure(result) {
    var status = result.response.status;
    var data = result.data || {};
    var here = { href: window.location.pathname, text: "Load the next pair" };
    if (status === 400 && data.errors) {
      showErrors(data.errors);
      setStatus("Not saved: please fix the highlighted answers.", true);
    } else if (status === 409) {
      setStatus("Not saved: " + (data.detail || "this pair can no longer be judged."), true, here);
    } else if (status === 401) {
      setStatus(data.detail || "Your session has ended. Log in again, then retry.", true);
    } else if (status === 403) {
      setStatus(
        "Not saved: the page’s security token is no longer valid. Copy your rationale, then reload.",
        true
      );
    } else if (status === 404) {
      setStatus("Not saved: this pair is no longer yours.", true, here);
    } else {
      setStatus(
        "Not saved: the server answered " + status + ". Your answers are still here; press Enter to try again.",
        true
      );
    }
  }

  function networkFailure() {
    state.inFlight = false;
    setBusy(false);
    setStatus(
      "Not saved: could not reach the server. Your answers are still here; press Enter to try again.",
      true
    );
  }

  function swap(html, message) {
    workspace.innerHTML = html;
    state.inFlight = false;
    window.scrollTo(0, 0);
    init();
    setStatus(message, false);
    liveStatus.textContent = message;
  }

  function submit() {
    var f = form();
    if (!f || state.inFlight) {
      return;
    }
    var errors = validate();
    if (Object.keys(errors).length) {
      showErrors(errors);
      setStatus("Some answers are missing.", true);
      return;
    }
    clearErrors();
    var body = payload();
    state.inFlight = true;
    setBusy(true);
    setStatus("Saving…", false);
    post(f.action, { body: body, key: idempotencyKey(f) })
      .then(function (result) {
        if (result.response.ok && result.data && typeof result.data.next_html === "string") {
          var replayed = result.data.status === "replayed";
          swap(result.data.next_html, replayed ? "Already saved. Next pair." : "Saved. Next pair.");
          return;
        }
        state.inFlight = false;
        setBusy(false);
        explainFailure(result);
      })
      .catch(networkFailure);
  }

  function skip() {
    var f = form();
    if (!f || state.inFlight) {
      return;
    }
    state.inFlight = true;
    setBusy(true);
    setStatus("Skipping…", false);
    post(f.getAttribute("data-skip-url"), {})
      .then(function (result) {
        if (result.response.ok && result.data && typeof result.data.next_html === "string") {
          swap(result.data.next_html, "Skipped. Next pair.");
          return;
        }
        state.inFlight = false;
        setBusy(false);
        explainFailure(result);
      })
      .catch(networkFailure);
  }

  // --- Dialogs ---------------------------------------------------------------------------

  var returnFocus = null;

  function restoreFocus(dialog) {
    // Only when focus was lost (still in the closed dialog, or on <body>): the "close"
    // event comes a task later, and a fast typist has moved on by then.
    var active = document.activeElement;
    if (active && active !== document.body && !dialog.contains(active)) {
      return;
    }
    if (returnFocus && document.contains(returnFocus) && returnFocus !== document.body) {
      returnFocus.focus({ preventScroll: true });
    } else {
      setCurrent(state.current, { scroll: false });
    }
  }

  function closeDialog(dialog) {
    dialog.close();
    restoreFocus(dialog);
  }

  function toggleDialog(dialog) {
    if (!dialog) {
      return;
    }
    if (dialog.open) {
      closeDialog(dialog);
      return;
    }
    var open = document.querySelector("dialog[open]");
    if (open) {
      open.close();
    } else {
      returnFocus = document.activeElement;
    }
    dialog.showModal();
  }

  [shortcutsDialog, guidelinesDialog].forEach(function (dialog) {
    if (dialog) {
      // Esc closes natively; put focus back where it was.
      dialog.addEventListener("close", function () {
        restoreFocus(dialog);
      });
    }
  });

  // --- Events (on document, so they survive swapping the workspace) ----------------------

  function isTyping(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable) {
      return true;
    }
    return tag === "INPUT" && !/^(radio|checkbox|button|submit|reset)$/.test(target.type);
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.isComposing) {
      return;
    }
    var key = e.key;
    var target = e.target;
    var open = document.querySelector("dialog[open]");
    if (open) {
      if ((key === "?" && open === shortcutsDialog) || (key === "g" && open === guidelinesDialog)) {
        e.preventDefault();
        closeDialog(open);
      }
      return; // Esc closes natively.
    }
    if (key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      submit();
      return;
    }
    if (isTyping(target)) {
      if (key === "Escape") {
        e.preventDefault();
        target.blur();
        setCurrent(state.current);
      }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) {
      return; // leave the browser's own shortcuts alone
    }
    if (key === "?") {
      e.preventDefault();
      toggleDialog(shortcutsDialog);
      return;
    }
    if (key === "g") {
      e.preventDefault();
      toggleDialog(guidelinesDialog);
      return;
    }
    var f = form();
    if (!f) {
      return;
    }
    var inForm = f.contains(target);
    if (key === "Enter") {
      var tag = target && target.tagName;
      if (tag === "A" || (tag === "BUTTON" && target.id !== "submit-button")) {
        return; // a focused link or button does its own thing
      }
      e.preventDefault();
      submit();
    } else if (key === "S" && e.shiftKey) {
      e.preventDefault();
      skip();
    } else if (/^[0-9t]$/.test(key)) {
      if (choose(key)) {
        e.preventDefault();
      }
    } else if (key === "q" || key === "w" || key === "e") {
      e.preventDefault();
      setStrength(key);
    } else if (key === "j" || (key === "ArrowDown" && inForm)) {
      e.preventDefault();
      setCurrent(state.current + 1);
    } else if (key === "k" || (key === "ArrowUp" && inForm)) {
      e.preventDefault();
      setCurrent(state.current - 1);
    } else if (key === "r") {
      e.preventDefault();
      f.elements.rationale.focus();
    }
  });

  document.addEventListener("focusin", function (e) {
    var f = form();
    if (!f || !f.contains(e.target)) {
      return;
    }
    var section = e.target.closest("[data-nav]");
    var index = section ? sections().indexOf(section) : -1;
    if (index >= 0 && index !== state.current) {
      setCurrent(index, { focus: false });
    }
  });

  document.addEventListener("change", function (e) {
    var f = form();
    if (!f || !f.contains(e.target)) {
      return;
    }
    if (e.target.name === "choice") {
      syncStrength();
    }
    clearErrorFor(e.target);
  });

  document.addEventListener("submit", function (e) {
    if (e.target.id === "judgment-form") {
      e.preventDefault();
      submit();
    } else if (e.target.id === "skip-form") {
      e.preventDefault();
      skip();
    }
  });

  document.addEventListener("click", function (e) {
    var action = e.target.closest("[data-action]");
    if (!action) {
      return;
    }
    var name = action.getAttribute("data-action");
    if (name === "guidelines") {
      e.preventDefault();
      toggleDialog(guidelinesDialog);
    } else if (name === "shortcuts") {
      e.preventDefault();
      toggleDialog(shortcutsDialog);
    } else if (name === "close-dialog") {
      e.preventDefault();
      closeDialog(action.closest("dialog"));
    }
  });

  // --- A freshly displayed pair ----------------------------------------------------------

  function init() {
    state.t0 = performance.now();
    state.current = 0;
    var f = form();
    if (f) {
      idempotencyKey(f);
      syncStrength();
      markErrors();
      var index = firstErrorSectionIndex();
      setCurrent(index >= 0 ? index : 0, { scroll: index >= 0 });
    } else {
      var empty = document.getElementById("queue-empty");
      if (empty) {
        empty.setAttribute("tabindex", "-1");
        empty.focus({ preventScroll: true });
      }
    }
  }

  init();
})();
