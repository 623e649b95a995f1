//! Comments: `POST /forms/{comment form}` once the answers are valid, and the
//! moderation pages staff reach from their email (`/comments/moderate?token=...`).
//!
//! A signed-in member's comment goes straight to moderation. Anyone else gives their
//! email: the comment is held, and goes to moderation when they follow the link we
//! send (a sign-in link for members, the programme's confirmation for new people).
//! As with every emailed link, `GET` only shows a page; its button acts.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Router};
use site_config::{escape_html as esc, FormDecl};

use super::error::AppError;
use super::extract::{Format, Posted};
use super::members::{html, prepare_links, problem, see_other, session, text};
use super::AppState;
use crate::comments::{self, Comment, Decision, NewComment, Posted as Outcome, Status};
use crate::members::accounts::{self, Member, Purpose};
use crate::store::Tx;
use crate::validate::{Problems, Submission};
use crate::{Error, Settings};

/// The moderation routes, behind the members' guard.
pub(super) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/comments/moderate", get(moderate_page).post(moderate))
        .route_layer(middleware::from_fn_with_state(state, super::members::guard))
}

/// In the transaction of a followed link: the member's held comments go to staff.
pub(super) fn release_held(
    app: &AppState,
) -> impl Fn(&mut Tx<'_>, &Member, i64) -> Result<(), Error> + Send + 'static {
    let app = app.clone();
    move |tx, member, max_age| {
        for c in comments::release_held(tx, member.id, max_age)? {
            queue_for_staff(tx, &app.settings, &c, member)?;
        }
        Ok(())
    }
}

fn queue_for_staff(tx: &mut Tx<'_>, s: &Settings, c: &Comment, m: &Member) -> Result<(), Error> {
    let days = i64::from(s.site.comments.moderation_link_days);
    let links = comments::moderation_links(tx, c, days * 86_400)?;
    tx.queue_mail(&comments::mail::to_moderate(s, c, m, &links)?)
}

/// A valid post of the comment form.
pub(super) async fn post(
    app: &AppState,
    form: &str,
    decl: &FormDecl,
    sub: &Submission,
    headers: &HeaderMap,
    format: Format,
) -> Result<Response, AppError> {
    let s = &app.settings;
    if s.loyalty.is_none() {
        return Err(AppError::NotFound);
    }
    let value = |f: &str| sub.answer(f).map(|a| a.value.clone()).unwrap_or_default();
    let service = value("service");
    let new = NewComment {
        public_id: super::forms::new_id(),
        page: format!("/services/{service}/"),
        service,
        author: value("display_name"),
        body: value("comment"),
    };
    let limit = s.site.comments.daily_limit;
    if let Some(member) = session::member(app, headers).await? {
        let state = app.clone();
        let outcome = app
            .store
            .transact(move |tx| {
                let out = comments::post(tx, member.id, &new, Status::Pending, limit)?;
                if let Outcome::Stored(c) = &out {
                    queue_for_staff(tx, &state.settings, c, &member)?;
                }
                Ok(out)
            })
            .await?;
        return Ok(match outcome {
            Outcome::Stored(c) | Outcome::Duplicate(c) => {
                tracing::info!(comment = %c.public_id, "comment sent to moderation");
                received(s, decl, format, &c.public_id, "pending")
            }
            Outcome::OverLimit => over_limit(s, limit),
        });
    }

    // Not signed in: the address and (for someone new) the programme's terms.
    let email = value("email");
    let mut errors = std::collections::BTreeMap::new();
    if email.is_empty() {
        errors.insert(
            "email".to_string(),
            "Give your email address so we can confirm it is you, or sign in first.".to_string(),
        );
    }
    if value("consent").is_empty() {
        errors.insert(
            "consent".to_string(),
            "Tick this to join the loyalty programme, or sign in first if you are a member."
                .to_string(),
        );
    }
    if !errors.is_empty() {
        let kept = sub
            .answers
            .iter()
            .map(|a| (a.name.clone(), a.value.clone()))
            .collect();
        return Err(AppError::Invalid {
            form: form.to_string(),
            problems: Problems { kept, errors },
        });
    }
    let title = s
        .services
        .iter()
        .find(|r| r.slug == new.service)
        .map_or("our treatment", |r| r.title.as_str());
    let note = format!(
        "Your comment on {title} is waiting: it goes to our staff to read as soon as you \
         press the button on the page the link opens."
    );
    let links = prepare_links(s, Some(&new.author), &email, Some(&note))?;
    let cfg = s.loyalty().clone();
    let outcome = app
        .store
        .transact(move |tx| {
            accounts::register(tx, &links, &cfg)?;
            let member = accounts::by_email(tx.conn, &links.email)?
                .ok_or_else(|| Error::Storage("member vanished".into()))?;
            comments::post(tx, member.id, &new, Status::Held, limit)
        })
        .await?;
    if outcome == Outcome::OverLimit {
        return Ok(over_limit(s, limit));
    }
    tracing::info!("comment held until its author follows the emailed link");
    Ok(match format {
        Format::Json => (
            StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({ "status": "check_your_email" })),
        )
            .into_response(),
        Format::Html => html(
            s,
            StatusCode::OK,
            "Check your email",
            &format!(
                "<div class=\"wrap\">\n<div class=\"page-header\">\n<h1>Check your email</h1>\n\
                 <p class=\"lead\">We have kept your comment and sent a link to {}.</p>\n</div>\n\
                 <p>Open the email and press the button on the page the link opens. Your comment \
                 then goes to our staff, who read every comment before it appears. If you are new, \
                 the same button confirms your membership and adds your welcome points.</p>\n</div>\n",
                esc(&email)
            ),
        ),
    })
}

fn received(s: &Settings, decl: &FormDecl, format: Format, id: &str, status: &str) -> Response {
    match format {
        Format::Html => see_other(&s.site_url(&decl.thank_you)),
        Format::Json => (
            StatusCode::CREATED,
            axum::Json(serde_json::json!({ "id": id, "status": status })),
        )
            .into_response(),
    }
}

fn over_limit(s: &Settings, limit: u32) -> Response {
    html(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "That is all for today",
        &format!(
            "<div class=\"wrap\">\n<div class=\"page-header\">\n<h1>That is all for today</h1>\n\
             <p class=\"lead\">Each member can post {limit} comments a day. Please come back \
             tomorrow, or call us with your question on {}.</p>\n</div>\n</div>\n",
            esc(&s.site.business.phone)
        ),
    )
}

/// The comment as staff see it on a moderation page.
fn shown(s: &Settings, c: &Comment, m: Option<&Member>) -> String {
    let who = m.map_or_else(String::new, |m| format!(" ({}, {})", m.name, m.email));
    let mut h = format!(
        "<p>On <a href=\"{url}\">{url}</a>, from <strong>{}</strong>{}:</p>\n<blockquote>{}</blockquote>\n",
        esc(&c.author),
        esc(&who),
        esc(&c.body).replace('\n', "<br>\n"),
        url = esc(&s.site_url(&c.page))
    );
    if !c.flags.is_empty() {
        h.push_str(&format!(
            "<p class=\"callout\"><strong>Check before approving:</strong> it {}.</p>\n",
            esc(&c.flags.replace(", ", " and "))
        ));
    }
    if let Some(r) = &c.reply {
        h.push_str(&format!("<p>Your current reply: {}</p>\n", esc(r)));
    }
    h
}

async fn moderate_page(
    State(app): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let s = &app.settings;
    let token = q.get("token").cloned().unwrap_or_default();
    let now = app.store.clock().now();
    let t = token.clone();
    let found = app
        .store
        .read(move |c| {
            let allowed = [
                Purpose::CommentApprove,
                Purpose::CommentReject,
                Purpose::CommentReply,
            ];
            Ok(match accounts::check_link(c, &t, &allowed, now)? {
                Ok(link) => match link
                    .subject
                    .map(|id| comments::get(c, id))
                    .transpose()?
                    .flatten()
                {
                    Some(comment) => {
                        let m = comments::author(c, &comment)?;
                        Ok((link.purpose, comment, m))
                    }
                    None => Err(accounts::LinkProblem::Unknown),
                },
                Err(p) => Err(p),
            })
        })
        .await?;
    let (purpose, c, m) = match found {
        Ok(f) => f,
        Err(p) => return Ok(problem(s, p, false)),
    };
    let action = format!("{}/comments/moderate", s.public_url);
    let (title, controls) = match purpose {
        Purpose::CommentApprove => (
            "Approve this comment",
            "<button class=\"button\" type=\"submit\">Approve and publish</button>".to_string(),
        ),
        Purpose::CommentReject => {
            let mut f = String::from(
                "<fieldset class=\"field\"><legend class=\"field__label\">Why? The member is told this reason.</legend>\n",
            );
            for (i, r) in s.site.comments.reject_reasons.iter().enumerate() {
                f.push_str(&format!(
                    "<label class=\"choice\"><input type=\"radio\" name=\"reason\" value=\"{i}\" required> {}</label>\n",
                    esc(r)
                ));
            }
            f.push_str("</fieldset>\n<button class=\"button\" type=\"submit\">Reject</button>");
            ("Reject this comment", f)
        }
        _ => (
            "Reply to this comment",
            "<div class=\"field\"><label class=\"field__label\" for=\"reply\">Your reply, shown under the comment as the clinic's</label>\n\
             <textarea id=\"reply\" name=\"reply\" rows=\"5\" maxlength=\"2000\" required></textarea></div>\n\
             <button class=\"button\" type=\"submit\">Publish reply (and the comment)</button>"
                .to_string(),
        ),
    };
    let body = format!(
        "<div class=\"wrap\">\n<div class=\"page-header\">\n<h1>{}</h1>\n</div>\n{}\
         <form class=\"form\" method=\"post\" action=\"{}\">\n<input type=\"hidden\" name=\"token\" value=\"{}\">\n{controls}\n</form>\n</div>\n",
        esc(title),
        shown(s, &c, m.as_ref()),
        esc(&action),
        esc(&token)
    );
    Ok(html(s, StatusCode::OK, title, &body))
}

async fn moderate(State(app): State<AppState>, Posted(raw): Posted) -> Result<Response, AppError> {
    let s = &app.settings;
    let token = text(&raw, "token");
    let reason = text(&raw, "reason")
        .parse::<usize>()
        .ok()
        .and_then(|i| s.site.comments.reject_reasons.get(i).cloned());
    let reply = text(&raw, "reply");
    if reply.chars().count() > 2000 {
        return Err(AppError::TooLarge);
    }
    let state = app.clone();
    // A refusal (no reason chosen, already decided) fails the job, so the link is not
    // spent and nothing changes.
    let result = app
        .store
        .transact(move |tx| {
            let (purpose, c) = match comments::use_moderation_link(tx, &token)? {
                Ok(found) => found,
                Err(p) => return Ok(Err(p)),
            };
            let refuse = |why: &str| Err(Error::Refused(why.to_string()));
            let decision = match purpose {
                Purpose::CommentApprove => Decision::Approve,
                Purpose::CommentReject => match &reason {
                    Some(r) => Decision::Reject(r.clone()),
                    None => return refuse("Choose a reason for rejecting it."),
                },
                _ if reply.is_empty() => return refuse("Write a reply first."),
                _ => Decision::Reply(reply.clone()),
            };
            let was = c.status;
            let decided = comments::decide(tx, c.id, &decision)?;
            if was == Status::Pending {
                if let Some(m) = comments::author(tx.conn, &decided)? {
                    tx.queue_mail(&comments::mail::decided(&state.settings, &decided, &m)?)?;
                }
            }
            Ok(Ok(decided))
        })
        .await;
    let (title, lead, status) = match result {
        Ok(Ok(c)) => {
            app.publisher.request();
            tracing::info!(comment = %c.public_id, status = c.status.as_str(), "comment moderated from an email link");
            if c.status == Status::Rejected {
                (
                    "Comment rejected",
                    "The member has been told, with the reason you chose.".to_string(),
                    StatusCode::OK,
                )
            } else {
                (
                    "Comment approved",
                    "It goes on the site with the next publish, which starts in a moment."
                        .to_string(),
                    StatusCode::OK,
                )
            }
        }
        Ok(Err(p)) => return Ok(problem(s, p, false)),
        Err(Error::Refused(why)) => ("Nothing was changed", why, StatusCode::CONFLICT),
        Err(e) => return Err(e.into()),
    };
    Ok(html(
        s,
        status,
        title,
        &format!(
            "<div class=\"wrap\">\n<div class=\"page-header\">\n<h1>{}</h1>\n<p class=\"lead\">{}</p>\n</div>\n</div>\n",
            esc(title),
            esc(&lead)
        ),
    ))
}
