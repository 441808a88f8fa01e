// The login page: POST /console/login, then on to the console (or where the user was going).

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");

function showError(text) {
  error.textContent = text;
  error.hidden = false;
}

function nextUrl() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return next.startsWith("#/") ? `/console/${next}` : "/console/";
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  error.hidden = true;
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    showError("请输入用户名和密码");
    return;
  }
  const button = form.querySelector("[type=submit]");
  button.disabled = true;
  try {
    const resp = await fetch("/console/login", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ username, password }),
    });
    if (resp.ok) {
      location.assign(nextUrl());
      return;
    }
    const body = await resp.json().catch(() => ({}));
    if (resp.status === 429) {
      const wait = Number(resp.headers.get("Retry-After") || 0);
      showError(`尝试次数过多，请${wait ? ` ${Math.ceil(wait / 60)} 分钟后` : "稍后"}再试`);
    } else {
      showError(body.message && /[^\x00-\x7f]/.test(body.message) ? body.message : "用户名或密码错误");
    }
    form.password.value = "";
    form.password.focus();
  } catch (_err) {
    showError("无法连接服务器，请检查网络");
  } finally {
    button.disabled = false;
  }
});
