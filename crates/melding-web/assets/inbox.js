// The inbox works without JavaScript: every page is a page and every action a form. This
// script only adds to that, and everything it does has a fallback without it:
// - a delete asks once more before it goes (a deleted letter is gone from the inbox for good);
// - a form is sent once: its buttons are disabled while the next page loads, so a double
//   click does not confirm or grant twice;
// - after a refused form, the first field in error has the focus, so a keyboard or screen
//   reader user lands where the error is.
// It is served by Melding itself (script-src 'self'); no inline script runs.
'use strict';

document.addEventListener('submit', (event) => {
  const form = event.target;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  if (form.method.toLowerCase() !== 'post') {
    return;
  }
  // After the event, so the pressed button's own name and value are still sent.
  setTimeout(() => {
    for (const button of form.querySelectorAll('button')) {
      button.disabled = true;
    }
  }, 0);
});

// A page brought back by the browser's back button gets its buttons back.
window.addEventListener('pageshow', () => {
  for (const button of document.querySelectorAll('form button[disabled]')) {
    button.disabled = false;
  }
});

document.addEventListener('DOMContentLoaded', () => {
  const invalid = document.querySelector('[aria-invalid="true"]');
  if (invalid) {
    invalid.focus();
  }
});
