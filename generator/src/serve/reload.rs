//! Telling open tabs what a rebuild changed, as server-sent events.
//!
//! `reload` carries the changed site paths (`*` for all), `css` the stylesheet URLs
//! to swap, and `broken` says the page now has problems to show.

use serde_json::json;
use tokio::sync::broadcast;

use super::rebuild::Update;

/// One message to every open tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The SSE event name.
    pub event: &'static str,
    /// JSON data.
    pub data: String,
}

/// The message for an update, if tabs need one.
pub fn message_for(update: &Update) -> Option<Message> {
    match update {
        Update::Nothing => None,
        Update::Pages(paths) => Some(Message {
            event: "reload",
            data: json!({ "paths": paths }).to_string(),
        }),
        // The page script's word for every page.
        Update::Everything => Some(Message {
            event: "reload",
            data: json!({ "paths": ["*"] }).to_string(),
        }),
        Update::Css(pairs) => Some(Message {
            event: "css",
            data: json!(pairs).to_string(),
        }),
        Update::Broken => Some(Message {
            event: "broken",
            data: "{}".into(),
        }),
    }
}

/// A channel every open tab listens on.
pub fn channel() -> broadcast::Sender<Message> {
    broadcast::channel(64).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_become_events() {
        assert_eq!(message_for(&Update::Nothing), None);
        let m = message_for(&Update::Pages(vec!["/a/".into()])).unwrap();
        assert_eq!(
            (m.event, m.data.as_str()),
            ("reload", r#"{"paths":["/a/"]}"#)
        );
        let m = message_for(&Update::Css(vec![("/a.1.css".into(), "/a.2.css".into())])).unwrap();
        assert_eq!(
            (m.event, m.data.as_str()),
            ("css", r#"[["/a.1.css","/a.2.css"]]"#)
        );
        assert_eq!(message_for(&Update::Broken).unwrap().event, "broken");
        let m = message_for(&Update::Everything).unwrap();
        assert_eq!((m.event, m.data.as_str()), ("reload", r#"{"paths":["*"]}"#));
    }
}
