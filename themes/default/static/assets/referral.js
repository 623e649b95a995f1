// Fills the registration form's referral code from a referral link (?ref=CODE).
// Without script the visitor types the code; nothing else depends on this file.
(function () {
  var field = document.getElementById("membership-referral");
  if (!field || field.value) return;
  var code = new URLSearchParams(window.location.search).get("ref");
  if (code && /^[A-Za-z0-9-]{1,20}$/.test(code)) field.value = code.toUpperCase();
})();
