//! The AUR stand-in (tests/support/aur_server.py) answers as aurweb does: every other test
//! plans against it, so an answer aurweb never gives would hide a planning bug. The fixtures in
//! tests/fixtures/aur-standin are real .SRCINFO files; assertions are on raw JSON.
use crate::support::{Aur, repo_root};
use serde_json::{Value, json};

/// The stand-in with the three fixture pkgbases; `standin-orphan` has no maintainer.
fn aur() -> Aur {
    let aur = Aur::start();
    for name in ["standin-split", "standin-epoch", "standin-orphan"] {
        aur.push_dir(name, &repo_root().join("tests/fixtures/aur-standin").join(name));
    }
    std::fs::write(aur.root.join("standin-orphan.git/maintainer"), "").unwrap();
    aur
}

struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

fn request(builder: impl FnOnce(&reqwest::Client) -> reqwest::RequestBuilder) -> Answer {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let response = builder(&reqwest::Client::new()).send().await.expect("request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or_default().to_string())
            .unwrap_or_default();
        Answer { status, content_type, body: response.bytes().await.expect("body").to_vec() }
    })
}

fn get(url: &str) -> Answer {
    request(|c| c.get(url))
}

/// raur's request: a form POST to `/rpc/`.
fn post_form(url: &str, form: &[(&str, &str)]) -> Answer {
    request(|c| c.post(url).form(form))
}

/// `results` of an info answer, by Name.
fn info(aur: &Aur, names: &[&str]) -> std::collections::BTreeMap<String, Value> {
    let query: Vec<String> = names.iter().map(|n| format!("arg[]={n}")).collect();
    let answer = get(&format!("{}/rpc/v5/info?{}", aur.url, query.join("&"))).json();
    assert_eq!((answer["version"].clone(), answer["type"].clone()), (json!(5), json!("multiinfo")), "{answer}");
    let results = answer["results"].as_array().unwrap();
    assert_eq!(answer["resultcount"], results.len());
    results.iter().map(|r| (r["Name"].as_str().unwrap().to_string(), r.clone())).collect()
}

fn names(answer: &Value) -> Vec<&str> {
    let mut names: Vec<&str> =
        answer["results"].as_array().unwrap().iter().map(|r| r["Name"].as_str().unwrap()).collect();
    names.sort();
    names
}

#[test]
fn a_split_pkgbase_gives_one_result_per_pkgname_with_pkgname_sections_overriding_key_by_key() {
    let aur = aur();
    let found = info(&aur, &["standin-split-full", "standin-split-other", "standin-split-bare", "no-such-package"]);
    assert_eq!(found.keys().collect::<Vec<_>>(), ["standin-split-bare", "standin-split-full", "standin-split-other"]);

    let full = &found["standin-split-full"];
    assert_eq!(full["PackageBase"], "standin-split");
    assert_eq!(full["Version"], "3.1-2");
    assert_eq!(full["Description"], "A split pkgbase whose pkgnames override and clear lists");
    assert_eq!(full["URL"], "https://example.org/standin");
    // depends_aarch64 is merged into the plain list, without its architecture.
    assert_eq!(full["Depends"], json!(["glibc", "zlib>=1.3", "libarm-helper>=2"]));
    assert_eq!(full["MakeDepends"], json!(["cmake>=3"]));
    // The description of an optdepends is not part of the RPC answer.
    assert_eq!(full["OptDepends"], json!(["python"]));
    assert_eq!(full["Provides"], json!(["standin-virtual=3.1"]));
    assert_eq!(full["Conflicts"], json!(["standin-old"]));

    // `depends = openssl` replaces the pkgbase's depends, not its depends_aarch64.
    let other = &found["standin-split-other"];
    assert_eq!(other["Depends"], json!(["openssl", "libarm-helper>=2"]));
    assert_eq!(other["Provides"], json!(["standin-other-virtual"]));
    assert_eq!(other["Description"], "Depends on something else");
    assert_eq!(other["PackageBaseID"], full["PackageBaseID"]);
    assert_ne!(other["ID"], full["ID"]);

    // `key =` clears: the list is empty, so aurweb leaves the key out.
    let bare = &found["standin-split-bare"];
    assert_eq!(bare["Depends"], json!(["libarm-helper>=2"]));
    for key in ["OptDepends", "Provides", "Conflicts"] {
        assert!(bare.get(key).is_none(), "{key} in {bare}");
    }
    assert_eq!(bare["MakeDepends"], json!(["cmake>=3"]));
}

#[test]
fn versions_carry_an_epoch_only_above_zero_and_lists_follow_aurwebs_presence_rules() {
    let aur = aur();
    let found = info(&aur, &["standin-epoch", "standin-orphan", "standin-split-full"]);
    assert_eq!(found["standin-epoch"]["Version"], "2:1.0-1");
    assert_eq!(found["standin-orphan"]["Version"], "0.5-1");

    let orphan = &found["standin-orphan"];
    assert_eq!(orphan["License"], json!([]));
    assert_eq!(orphan["Keywords"], json!([]));
    for key in ["Depends", "MakeDepends", "CheckDepends", "OptDepends", "Provides", "Conflicts", "Replaces", "Groups"] {
        assert!(orphan.get(key).is_none(), "{key} in {orphan}");
    }
    for key in [
        "ID",
        "PackageBaseID",
        "NumVotes",
        "Popularity",
        "OutOfDate",
        "Maintainer",
        "Submitter",
        "FirstSubmitted",
        "LastModified",
        "URLPath",
        "Description",
        "URL",
    ] {
        assert!(orphan.get(key).is_some(), "{key} missing from {orphan}");
    }
    assert_eq!(orphan["Maintainer"], Value::Null);
    assert_eq!(orphan["Description"], Value::Null);
    assert_eq!(orphan["URL"], Value::Null);
    assert_eq!(orphan["URLPath"], "/cgit/aur.git/snapshot/standin-orphan.tar.gz");
    assert_eq!(found["standin-split-full"]["Maintainer"], "fixture-maintainer");
    let mut licenses: Vec<&str> =
        found["standin-split-full"]["License"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    licenses.sort();
    assert_eq!(licenses, ["Apache-2.0", "MIT"]);

    // IDs stay the same from one request to the next.
    let again = info(&aur, &["standin-epoch"]);
    assert_eq!(again["standin-epoch"]["ID"], found["standin-epoch"]["ID"]);
    assert!(found["standin-epoch"]["LastModified"].as_i64().unwrap() > 1_600_000_000);
}

#[test]
fn search_answers_as_aurweb_by_every_field_repoctl_may_use() {
    let aur = aur();
    let search = |term: &str, by: &str| get(&format!("{}/rpc/v5/search/{term}?by={by}", aur.url)).json();

    let provides = search("standin-virtual", "provides");
    assert_eq!((provides["type"].clone(), names(&provides)), (json!("search"), vec!["standin-split-full"]));
    // A package always provides itself: its own name is found by provides.
    assert_eq!(names(&search("standin-epoch", "provides")), ["standin-epoch"]);
    // Arch-specific depends are searchable like the others; names match without the condition.
    assert_eq!(
        names(&search("libarm-helper", "depends")),
        ["standin-split-bare", "standin-split-full", "standin-split-other"]
    );
    assert_eq!(names(&search("cmake", "makedepends")).len(), 3);
    // standin-split-other keeps the pkgbase's optdepends; standin-split-bare cleared them.
    assert_eq!(names(&search("python", "optdepends")), ["standin-split-full", "standin-split-other"]);
    assert!(names(&search("libarm", "depends")).is_empty(), "depends matches whole names only");
    // Name search is a substring match; name-desc also looks at the description.
    assert_eq!(names(&search("split-o", "name")), ["standin-split-other"]);
    assert_eq!(names(&search("something else", "name-desc")), ["standin-split-other"]);

    // Search results carry fewer fields than info: no Submitter, no lists.
    let result = &provides["results"][0];
    assert!(result.get("Submitter").is_none() && result.get("License").is_none(), "{result}");
    assert!(result.get("Depends").is_none() && result.get("Keywords").is_none(), "{result}");
    assert_eq!(result["Maintainer"], "fixture-maintainer");

    // raur's search_by: a form POST to /rpc/ with type=search.
    let by_maintainer = post_form(
        &format!("{}/rpc/", aur.url),
        &[("v", "5"), ("type", "search"), ("by", "maintainer"), ("arg", "fixture-maintainer")],
    )
    .json();
    assert_eq!(names(&by_maintainer).len(), 4);
    // by=maintainer without an argument: the orphans.
    let orphans = get(&format!("{}/rpc/?v=5&type=search&by=maintainer", aur.url)).json();
    assert_eq!(names(&orphans), ["standin-orphan"]);
}

#[test]
fn errors_are_aurwebs() {
    let aur = aur();
    let error =
        |message: &str| json!({"version": 5, "type": "error", "resultcount": 0, "results": [], "error": message});
    let short = get(&format!("{}/rpc/v5/search/s?by=name", aur.url));
    assert_eq!(short.json(), error("Query arg too small."));
    assert_eq!(
        get(&format!("{}/rpc/?v=5&type=nope&arg=x", aur.url)).json(),
        error("Incorrect request type specified.")
    );
    assert_eq!(
        get(&format!("{}/rpc/?v=5&type=search&by=nope&arg=xx", aur.url)).json(),
        error("Incorrect by field specified.")
    );
    let no_version = get(&format!("{}/rpc/?type=info&arg=x", aur.url)).json();
    assert_eq!(
        (no_version["version"].clone(), no_version["error"].clone()),
        (Value::Null, json!("Please specify an API version."))
    );
    // The maintainer search has no minimum length.
    assert_eq!(get(&format!("{}/rpc/?v=5&type=search&by=maintainer&arg=x", aur.url)).json()["type"], "search");
}

#[test]
fn cgit_serves_the_srcinfo_at_head_and_404s_an_unknown_pkgbase() {
    let aur = aur();
    let answer = get(&format!("{}/cgit/aur.git/plain/.SRCINFO?h=standin-split", aur.url));
    assert_eq!(answer.status, 200);
    assert!(answer.content_type.starts_with("text/plain"), "{}", answer.content_type);
    let expected = std::fs::read(repo_root().join("tests/fixtures/aur-standin/standin-split/.SRCINFO")).unwrap();
    assert_eq!(answer.body, expected);
    assert_eq!(get(&format!("{}/cgit/aur.git/plain/.SRCINFO?h=no-such-base", aur.url)).status, 404);

    let stats = get(&format!("{}/__stats", aur.url)).json();
    assert_eq!(stats["srcinfo_requests"], 2, "{stats}");

    // Synthetic pkgbases have a .SRCINFO consistent with their RPC answer.
    let synthetic = Aur::start_with(60);
    let text =
        String::from_utf8(get(&format!("{}/cgit/aur.git/plain/.SRCINFO?h=synth-00051", synthetic.url)).body).unwrap();
    for line in [
        "pkgbase = synth-00051",
        "\tpkgver = 1.0",
        "\tarch = x86_64",
        "\tdepends = synth-00050>=1.0",
        "pkgname = synth-00051",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
    let found = info(&synthetic, &["synth-00051"]);
    assert_eq!(found["synth-00051"]["Depends"], json!(["glibc", "synth-00050>=1.0"]));
    assert_eq!(found["synth-00051"]["LastModified"], 1_700_000_000);
}

#[test]
fn repoctl_parses_every_answer_through_raur() {
    let aur = aur();
    let all = ["standin-split-full", "standin-split-other", "standin-split-bare", "standin-epoch", "standin-orphan"]
        .map(String::from);
    let client = repoctl::aur::AurClient::new(&aur.url).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (found, requests) = rt.block_on(client.info(&all)).expect("raur parses the info answer");
    assert_eq!((found.len(), requests), (5, 1));
    assert_eq!(found["standin-orphan"].maintainer, None);
    assert_eq!(found["standin-epoch"].version, "2:1.0-1");
    assert_eq!(found["standin-split-other"].pkgbase, "standin-split");
    // The two other requests repoctl makes: search by provides, and a pkgbase's .SRCINFO.
    let providers = rt.block_on(client.search_provides("standin-virtual")).expect("raur parses the search answer");
    assert!(!providers.is_empty());
    let text = rt.block_on(client.srcinfo_text("standin-split", None)).unwrap().expect("the .SRCINFO of standin-split");
    assert!(text.contains("pkgbase = standin-split"));
    assert_eq!(rt.block_on(client.srcinfo_text("no-such-pkgbase", None)).unwrap(), None);

    let query: Vec<String> = all.iter().map(|n| format!("arg[]={n}")).collect();
    let bodies = [
        get(&format!("{}/rpc/v5/info?{}", aur.url, query.join("&"))).body,
        post_form(&format!("{}/rpc/", aur.url), &[("v", "5"), ("type", "info"), ("arg[]", "standin-epoch")]).body,
        get(&format!("{}/rpc/v5/search/standin?by=name", aur.url)).body,
        get(&format!("{}/rpc/v5/search/standin-virtual?by=provides", aur.url)).body,
        get(&format!("{}/rpc/?v=5&type=search&by=maintainer", aur.url)).body,
        get(&format!("{}/rpc/v5/search/s?by=name", aur.url)).body,
    ];
    for body in bodies {
        repoctl::aur::parse_rpc_results(&body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)));
    }
}
