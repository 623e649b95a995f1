//! The front matter fields editors may write, in one table: which kinds of page take
//! each, whether it is required, and what it means. Reading front matter
//! (`content::front_matter`) refuses any other key with a did-you-mean from this list,
//! and the JSON Schema for editors' tools ([`crate::schema`]) is written from it.

/// The texts `generator new service` writes for the editor to replace: a page that is
/// published with one of them still in it is refused.
pub mod placeholder {
    /// The scaffold's `summary:`.
    pub const SUMMARY: &str =
        "Write one or two sentences that say what this treatment does and who it is for.";
    /// The scaffold's FAQ answers.
    pub const ANSWERS: [&str; 2] = [
        "Say what people can expect afterwards, and for how long.",
        "Say what to do, or avoid, before the appointment.",
    ];
    /// The first words of the scaffold's text.
    pub const BODY: &str = "Describe the treatment here in Markdown.";
}

/// One front matter field.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The key as written in YAML.
    pub name: &'static str,
    /// Service pages (`content/services/*.md`) take it.
    pub service: bool,
    /// Other pages take it.
    pub page: bool,
    /// Required on service pages.
    pub required_on_services: bool,
    /// Required on other pages.
    pub required_on_pages: bool,
    /// What it means, for editors.
    pub about: &'static str,
}

/// `required`: 0 never, 1 on service pages only, 2 everywhere it is taken.
const fn f(
    name: &'static str,
    service: bool,
    page: bool,
    required: u8,
    about: &'static str,
) -> Field {
    Field {
        name,
        service,
        page,
        required_on_services: service && required >= 1,
        required_on_pages: page && required >= 2,
        about,
    }
}

impl Field {
    /// Whether a service page (`service`) or another page must have it.
    pub fn required(&self, service: bool) -> bool {
        if service {
            self.required_on_services
        } else {
            self.required_on_pages
        }
    }
}

/// Every field, in the order editors usually write them.
pub const FIELDS: &[Field] = &[
    f("title", true, true, 2, "The page's name, as visitors see it."),
    f(
        "summary",
        true,
        true,
        1,
        "One or two sentences, used in listings, the meta description and link previews. Required on service pages.",
    ),
    f(
        "duration",
        true,
        false,
        1,
        "How long one appointment takes: 1hr, 1 hr, 45 min, 1h 30m, 90m or 2 hours.",
    ),
    f(
        "price",
        true,
        false,
        0,
        "A plain number of 0 or more in the site's currency (85, 49.50); 0 shows Free (only when the treatment itself is free); `quoted` shows Quoted at your consultation; leave it out to show Price on consultation.",
    ),
    f(
        "price_from",
        true,
        false,
        0,
        "Instead of price: the lowest price (90 shows From £90), given to search engines as a minimum.",
    ),
    f(
        "currency",
        true,
        false,
        0,
        "An ISO 4217 code such as EUR, when this service is priced in another currency than site.yaml's.",
    ),
    f(
        "sessions",
        true,
        false,
        0,
        "How many sessions a course takes: 1, or a range such as 2-3.",
    ),
    f(
        "faqs",
        true,
        false,
        0,
        "Questions people ask, each with a Markdown answer.",
    ),
    f(
        "template",
        false,
        true,
        0,
        "Another template than page.html, from the theme or templates/.",
    ),
    f(
        "form",
        false,
        true,
        0,
        "A form declared in site.yaml, shown after the text.",
    ),
    f(
        "order",
        true,
        true,
        0,
        "Position in listings, lower first; equal orders sort by title.",
    ),
    f(
        "draft",
        true,
        true,
        0,
        "true keeps the page out of the site (build --drafts includes it).",
    ),
    f(
        "slug",
        true,
        true,
        0,
        "The last part of the page's address; by default the file name. Lowercase letters, digits and single hyphens.",
    ),
    f(
        "aliases",
        true,
        true,
        0,
        "Old addresses (/old-page/) that redirect here.",
    ),
    f(
        "image",
        true,
        true,
        0,
        "A picture next to the page or in static/, used on the page and in link previews; needs image_alt.",
    ),
    f(
        "image_alt",
        true,
        true,
        0,
        "A short description of the image for people who cannot see it.",
    ),
    f(
        "gallery",
        true,
        true,
        0,
        "Photos shown together after the text: a list of image, alt and (optional) caption.",
    ),
    f("extra", true, true, 0, "Free values for the theme."),
];

/// The fields a service page (`service`) or another page takes.
pub fn fields_for(service: bool) -> impl Iterator<Item = &'static Field> {
    FIELDS
        .iter()
        .filter(move |f| if service { f.service } else { f.page })
}

/// Duration forms editors may write, for messages and the schema.
pub const DURATION_FORMS: &str = "`1hr`, `1 hr`, `45 min`, `1h 30m`, `90m` or `2 hours`";
