//! Issue 8, the loyalty programme, through the real router, a real SQLite file and a
//! real SMTP server (aiosmtpd): every link the tests follow is read out of an email
//! that arrived over SMTP, and "scanners" are `GET`s of those links.

mod flow;
mod referrals;
mod rewards;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::Router;

use crate::support::http::{browser_post, header, send, text};
use crate::support::mime::{parse, Mail};
use crate::support::smtp::SmtpServer;
use crate::support::{encode, peer, settings, TestService};

/// The service's public address in the fixture config; emailed links start with it.
pub const SERVICE: &str = "https://forms.themedicalspa.example";

/// A running service with its own SMTP server.
pub struct Club {
    pub t: TestService,
    pub smtp: SmtpServer,
    pub app: Router,
    /// Messages already handed out by `next_mail`.
    seen: usize,
    /// The staff session cookie, once `sign_in_staff` ran; sent with every request.
    pub staff: Option<String>,
}

impl Club {
    pub fn start() -> Club {
        Self::with(settings())
    }

    /// With other settings (a publish command, say).
    pub fn with(settings: form_service::Settings) -> Club {
        let smtp = SmtpServer::start();
        let t = TestService::with_smtp(settings, smtp.port);
        let app = t.service.router();
        Club {
            t,
            smtp,
            app,
            seen: 0,
            staff: None,
        }
    }

    /// Signs this club's browser in as the fixture's staff address: from now on every
    /// request carries the staff session too.
    pub async fn sign_in_staff(&mut self) -> String {
        self.sign_in_staff_as(crate::support::staff::STAFF).await
    }

    /// Signs this club's browser in as another configured staff address (carrying the
    /// staff cookie it already has, as a browser does).
    pub async fn sign_in_staff_as(&mut self, email: &str) -> String {
        let cookie = crate::support::staff::sign_in_carrying(
            &self.app,
            &self.smtp,
            &mut self.seen,
            email,
            self.staff.as_deref(),
        )
        .await;
        self.staff = Some(cookie.clone());
        cookie
    }

    pub async fn send(&self, mut req: Request<Body>) -> Response<Body> {
        if let Some(staff) = &self.staff {
            let cookie = match req.headers().get("cookie").and_then(|v| v.to_str().ok()) {
                Some(c) => format!("{c}; {staff}"),
                None => staff.clone(),
            };
            req.headers_mut().insert("cookie", cookie.parse().unwrap());
        }
        send(&self.app, peer(7), req).await
    }

    /// `POST /forms/membership` as the site's form sends it.
    pub async fn register(&self, name: &str, email: &str, referral: &str) -> Response<Body> {
        let body = format!(
            "name={}&email={}&referral={}&consent=yes&website=",
            encode(name),
            encode(email),
            encode(referral)
        );
        self.send(browser_post("/forms/membership", body)).await
    }

    /// Posts to `path` as the site's forms do, with a session cookie if given.
    pub async fn post_as(&self, cookie: Option<&str>, path: &str, body: String) -> Response<Body> {
        let mut req = browser_post(path, body);
        if let Some(c) = cookie {
            req.headers_mut().insert("cookie", c.parse().unwrap());
        }
        self.send(req).await
    }

    /// The next email to arrive (waiting for it, bounded).
    pub async fn next_mail(&mut self) -> Mail {
        self.seen += 1;
        let n = self.seen;
        let smtp = &self.smtp;
        let all =
            tokio::task::block_in_place(|| smtp.wait_for_messages(n, Duration::from_secs(20)));
        parse(&all[n - 1])
    }

    /// A scanner (or a person) opening a link: `GET`, no cookie, no origin.
    pub async fn open(&self, url: &str) -> (StatusCode, String) {
        self.open_as(None, url).await
    }

    /// Opening a link in a browser that holds `cookie` (a `Cookie` header value).
    pub async fn open_as(&self, cookie: Option<&str>, url: &str) -> (StatusCode, String) {
        let mut req = Request::get(path(url));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        let res = self.send(req.body(Body::empty()).unwrap()).await;
        let status = res.status();
        (status, text(res).await)
    }

    /// Pressing the page's button: posts its hidden fields (the token, and where to go
    /// next for a staff sign-in) to its action, as a browser does.
    pub async fn press(&self, page: &str) -> Response<Body> {
        self.press_as(None, page).await
    }

    /// Pressing the page's button in a browser that holds `cookie`.
    pub async fn press_as(&self, cookie: Option<&str>, page: &str) -> Response<Body> {
        let action = attr(page, "<form class=\"form\" method=\"post\" action=\"", "\"");
        let mut body = Vec::new();
        let mut rest = page;
        while let Some(i) = rest.find("<input type=\"hidden\" name=\"") {
            rest = &rest[i..];
            let name = attr(rest, "name=\"", "\"");
            let value = attr(rest, "value=\"", "\"");
            body.push(format!("{}={}", encode(&name), encode(&value)));
            rest = &rest[1..];
        }
        self.post_as(cookie, &path(&action), body.join("&")).await
    }

    /// The member's page for a session cookie.
    pub async fn page(&self, cookie: &str) -> String {
        let res = self
            .send(
                Request::get("/members/")
                    .header("cookie", cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        text(res).await
    }

    /// Registers, confirms through the emailed link, and returns the session cookie.
    pub async fn join(&mut self, name: &str, email: &str, referral: &str) -> String {
        let res = self.register(name, email, referral).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let mail = self.next_mail().await;
        let url = link(&mail, "/members/confirm?token=");
        let (status, page) = self.open(&url).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let res = self.press(&page).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        session_cookie(&res)
    }

    /// A staff command on this service's database.
    pub fn command(&self, args: &[&str]) -> std::process::Output {
        crate::support::bin::command(self.t.data.path(), args)
    }

    /// A member's balance as their page shows it.
    pub async fn balance(&self, cookie: &str) -> i64 {
        let page = self.page(cookie).await;
        attr(&page, "<strong id=\"balance\">", "<").parse().unwrap()
    }
}

/// The path of a link to this service.
pub fn path(url: &str) -> String {
    url.strip_prefix(SERVICE)
        .unwrap_or_else(|| panic!("{url} is not a link to the service"))
        .replace("&amp;", "&")
}

/// The first link in the email's text part that contains `marker`.
pub fn link(mail: &Mail, marker: &str) -> String {
    mail.text
        .split_whitespace()
        .find(|w| w.contains(marker))
        .unwrap_or_else(|| panic!("no link with {marker} in:\n{}", mail.text))
        .to_string()
}

/// The text between `start` and the next `end`.
pub fn attr(html: &str, start: &str, end: &str) -> String {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in:\n{html}"))
        + start.len();
    let len = html[from..].find(end).unwrap();
    html[from..from + len].replace("&amp;", "&")
}

/// `member_session=...` (`__Host-` prefixed when `Secure`) from a response's
/// `Set-Cookie`, as a `Cookie` header value.
pub fn session_cookie(res: &Response<Body>) -> String {
    crate::support::staff::cookie_of(header(res, "set-cookie"), "member_session")
}
