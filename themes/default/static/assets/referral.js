// Fills the registration form's referral code from a referral link (?ref=CODE), and on
// a member's page adds a button that copies their referral link. Without script the
// visitor types the code, or selects the link; nothing else depends on this file.
(function () {
  var field = document.getElementById("membership-referral");
  var code = new URLSearchParams(window.location.search).get("ref");
  if (field && !field.value && code && /^[A-Za-z0-9-]{1,20}$/.test(code)) field.value = code.toUpperCase();

  var link = document.getElementById("referral-link");
  if (!link) return;
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button button--quiet";
  button.textContent = "Copy link";
  var said = document.createElement("span");
  said.setAttribute("role", "status");
  function done(ok) {
    said.textContent = ok ? " Copied." : " Select the link and copy it.";
  }
  button.addEventListener("click", function () {
    link.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(link.value).then(function () { done(true); }, function () { done(document.execCommand("copy")); });
    } else {
      done(document.execCommand("copy"));
    }
  });
  link.insertAdjacentElement("afterend", said);
  link.insertAdjacentElement("afterend", button);
})();
