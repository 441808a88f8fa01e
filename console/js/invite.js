// The invite page: the token is in the URL's fragment (never sent to the server in a request
// line or a Referer); the new password and the token go in one POST, which also logs in.

const form = document.getElementById("invite-form");
const error = document.getElementById("invite-error");
const token = decodeURIComponent(location.hash.replace(/^#/, ""));

function showError(text) {
  error.textContent = text;
  error.hidden = false;
}

if (!token) showError("邀请链接不完整，请向管理员重新索取");

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  error.hidden = true;
  const password = form.password.value;
  if (password.length < 10) return showError("密码至少 10 个字符");
  if (password !== form.password2.value) return showError("两次输入的密码不一致");
  const button = form.querySelector("[type=submit]");
  button.disabled = true;
  try {
    const resp = await fetch("/console/invite", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ token, password }),
    });
    if (resp.ok) {
      history.replaceState(null, "", "/console/invite");
      location.assign("/console/");
      return;
    }
    const body = await resp.json().catch(() => ({}));
    showError(
      resp.status === 400 && body.message && /[^\x00-\x7f]/.test(body.message)
        ? body.message
        : resp.status === 429
          ? "尝试次数过多，请稍后再试"
          : "邀请链接无效或已过期，请向管理员重新索取",
    );
  } catch (_err) {
    showError("无法连接服务器，请检查网络");
  } finally {
    button.disabled = false;
  }
});
