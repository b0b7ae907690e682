//! The Slack message for each event type: a plain `text` fallback (what
//! notifications show) and Block Kit `blocks`, with the author or customer,
//! a link to the site, and the enricher's judgement when there is one.
//!
//! Everything that came from WordPress is escaped (`&`, `<`, `>`), so a
//! comment cannot smuggle in `<!channel>` or a disguised link.

use serde_json::{json, Value};
use wp_bridge_core::event::{CommentCreated, Event, EventData, LeadCreated, OrderCreated};

use crate::enrichment::Enrichment;
use crate::text::truncate;

/// Slack's limit for a section's text is 3000 characters; stay under it.
const MAX_SECTION: usize = 2900;
/// Line items or form fields listed before "… and N more".
const MAX_LISTED: usize = 10;
/// A listed form field value is cut to this many characters.
const MAX_FIELD_VALUE: usize = 200;
/// Content quoted in the fallback text.
const MAX_FALLBACK_EXCERPT: usize = 120;

/// The JSON body posted to the incoming webhook.
pub(crate) fn message(event: &Event, enrichment: Option<&Enrichment>) -> Value {
    let (text, mut blocks) = match &event.data {
        EventData::CommentCreated(comment) => comment_blocks(&event.site, comment),
        EventData::OrderCreated(order) => order_blocks(&event.site, order),
        EventData::LeadCreated(lead) => lead_blocks(lead),
    };
    if let Some(labels) = enrichment.map(Enrichment::labels).filter(|l| !l.is_empty()) {
        let line = labels
            .iter()
            .map(|(label, value)| format!("*{label}:* {}", escape(value)))
            .collect::<Vec<_>>()
            .join("  ·  ");
        blocks.push(context(&truncate(
            &format!(":sparkles: {line}"),
            MAX_SECTION,
        )));
    }
    blocks.push(context(&format!(
        "{}  ·  {} `{}`",
        link(&event.site, &site_label(&event.site)),
        event.event_type(),
        escape(event.event_id.as_str()),
    )));
    json!({ "text": text, "blocks": blocks })
}

fn comment_blocks(site: &str, comment: &CommentCreated) -> (String, Vec<Value>) {
    let post_url = format!("{}/?p={}", site.trim_end_matches('/'), comment.post_id);
    let comment_url = format!("{post_url}#comment-{}", comment.id);
    let author = escape(&comment.author.name);
    let email = comment
        .author
        .email
        .as_deref()
        .map(|e| format!(" ({})", mailto(e)))
        .unwrap_or_default();
    let headline = format!(
        "*New comment* by *{author}*{email} on {}",
        link(&comment_url, &format!("post {}", comment.post_id))
    );
    let fallback = format!(
        "New comment by {author} on {}: {}",
        escape(site),
        escape(&truncate(&one_line(&comment.content), MAX_FALLBACK_EXCERPT))
    );
    let blocks = vec![section(&headline), section(&quote(&comment.content))];
    (fallback, blocks)
}

fn order_blocks(site: &str, order: &OrderCreated) -> (String, Vec<Value>) {
    let customer = &order.customer;
    let name = format!("{} {}", customer.first_name, customer.last_name)
        .trim()
        .to_owned();
    let who = if name.is_empty() {
        escape(&customer.email)
    } else {
        format!("{} ({})", escape(&name), escape(&customer.email))
    };
    let money = format!("{} {}", escape(&order.total), escape(&order.currency));
    let fallback = format!("New order #{}: {money} from {who}", order.id);
    let headline = format!(
        "*New order #{}* on {}: *{money}*",
        order.id,
        link(site, &site_label(site))
    );
    let fields = json!([
        mrkdwn(&format!(
            "*Customer*\n{}",
            customer_line(&name, &customer.email)
        )),
        mrkdwn(&format!("*Status*\n{}", escape(&order.status))),
        mrkdwn(&format!("*Total*\n{money}")),
        mrkdwn(&format!("*Items*\n{}", order.line_items.len())),
    ]);
    let mut lines: Vec<String> = order
        .line_items
        .iter()
        .take(MAX_LISTED)
        .map(|item| {
            format!(
                "• {} × {} — {} {}",
                item.quantity,
                escape(&item.name),
                escape(&item.total),
                escape(&order.currency)
            )
        })
        .collect();
    if order.line_items.len() > MAX_LISTED {
        lines.push(format!(
            "… and {} more",
            order.line_items.len() - MAX_LISTED
        ));
    }
    let mut blocks = vec![
        section(&headline),
        json!({ "type": "section", "fields": fields }),
    ];
    if !lines.is_empty() {
        blocks.push(section(&truncate(&lines.join("\n"), MAX_SECTION)));
    }
    (fallback, blocks)
}

fn lead_blocks(lead: &LeadCreated) -> (String, Vec<Value>) {
    let email = lead.email.as_deref().filter(|e| !e.is_empty());
    let fallback = format!(
        "New lead from the {} form: {}",
        escape(&lead.form_title),
        email.map(escape).unwrap_or_else(|| "no email given".into())
    );
    let headline = format!(
        "*New lead* from the *{}* form{} on {}",
        escape(&lead.form_title),
        email
            .map(|e| format!(": {}", mailto(e)))
            .unwrap_or_default(),
        link(&lead.source_url, &page_label(&lead.source_url)),
    );
    let mut lines: Vec<String> = lead
        .fields
        .iter()
        .take(MAX_LISTED)
        .map(|(name, value)| {
            format!(
                "*{}:* {}",
                escape(name),
                escape(&truncate(&one_line(value), MAX_FIELD_VALUE))
            )
        })
        .collect();
    if lead.fields.len() > MAX_LISTED {
        lines.push(format!(
            "… and {} more fields",
            lead.fields.len() - MAX_LISTED
        ));
    }
    let mut blocks = vec![section(&headline)];
    if !lines.is_empty() {
        blocks.push(section(&truncate(&lines.join("\n"), MAX_SECTION)));
    }
    (fallback, blocks)
}

fn customer_line(name: &str, email: &str) -> String {
    if name.is_empty() {
        mailto(email)
    } else {
        format!("{}\n{}", escape(name), mailto(email))
    }
}

fn section(text: &str) -> Value {
    json!({ "type": "section", "text": mrkdwn(text) })
}

fn context(text: &str) -> Value {
    json!({ "type": "context", "elements": [mrkdwn(text)] })
}

fn mrkdwn(text: &str) -> Value {
    json!({ "type": "mrkdwn", "text": text })
}

/// Each line of `text` as a Slack quote, escaped and cut to fit a section.
fn quote(text: &str) -> String {
    let quoted = truncate(text, MAX_SECTION - 200)
        .lines()
        .map(|line| format!(">{}", escape(line)))
        .collect::<Vec<_>>()
        .join("\n");
    if quoted.is_empty() {
        ">".to_owned()
    } else {
        quoted
    }
}

/// Slack's three control characters, escaped as its formatting guide asks.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `<url|label>`; characters that would end the link early are encoded.
fn link(url: &str, label: &str) -> String {
    let url = url
        .replace('&', "&amp;")
        .replace('<', "%3C")
        .replace('>', "%3E")
        .replace('|', "%7C")
        .replace(' ', "%20");
    format!("<{url}|{}>", escape(label).replace('|', "¦"))
}

fn mailto(email: &str) -> String {
    link(&format!("mailto:{email}"), email)
}

/// `blog.example` for `https://blog.example/`.
fn site_label(site: &str) -> String {
    url::Url::parse(site)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| site.to_owned())
}

/// `shop.example/contact/` for `https://shop.example/contact/`.
fn page_label(page: &str) -> String {
    match url::Url::parse(page) {
        Ok(u) => format!("{}{}", u.host_str().unwrap_or_default(), u.path()),
        Err(_) => page.to_owned(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_defuses_mentions_and_links() {
        assert_eq!(
            escape("<!channel> & <http://evil|click>"),
            "&lt;!channel&gt; &amp; &lt;http://evil|click&gt;"
        );
        assert_eq!(
            link("https://x.example/?a=1&b=2|3", "a|b"),
            "<https://x.example/?a=1&amp;b=2%7C3|a¦b>"
        );
    }

    #[test]
    fn quote_prefixes_every_line() {
        assert_eq!(quote("a\nb <c>"), ">a\n>b &lt;c&gt;");
        assert_eq!(quote(""), ">");
    }
}
