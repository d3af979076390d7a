//! Bulk imports over real HTTP and the real command line: regions and families from CSV
//! files (good lines kept, bad lines reported by number and reason, the same file twice
//! changing nothing, files refused whole writing nothing), and a region's cards issued in
//! bulk with a PIN mailer that can be downloaded once.

use std::time::{Duration, Instant};

use reqwest::blocking::Response;
use serde_json::{json, Value};

use crate::support::api::{assert_problem, Session};
use crate::support::{kks, on_both_backends, TestServer};

/// How long a small import may take on a busy machine before the test gives up.
const JOB_WAIT_MAX: Duration = Duration::from_secs(60);

pub fn upload(
    session: &Session<'_>,
    server: &TestServer,
    kind: &str,
    body: impl Into<reqwest::blocking::Body>,
) -> Response {
    session
        .authorized(server.client.post(server.url(&format!("/v1/imports/{kind}"))))
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .expect("POST an import")
}

/// Uploads a file that must be accepted, and follows its job until it is finished.
pub fn import(session: &Session<'_>, server: &TestServer, kind: &str, file: &str) -> Value {
    let started = upload(session, server, kind, file.to_owned());
    assert_eq!(started.status(), 202, "{}", started.text().unwrap_or_default());
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    let job: Value = started.json().unwrap();
    assert_eq!(location, format!("/v1/imports/{}", job["id"]));
    finished(session, &location)
}

/// The job at `location`, once finished (polled within a bounded wait).
pub fn finished(session: &Session<'_>, location: &str) -> Value {
    let started = Instant::now();
    loop {
        let job: Value = session.get(location).json().unwrap();
        if job["status"] == "finished" {
            assert_eq!(job["progress_percent"], 100);
            return job;
        }
        assert_ne!(job["status"], "failed", "{job}");
        assert!(started.elapsed() < JOB_WAIT_MAX, "the job did not finish: {job}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn counts(job: &Value) -> (i64, i64, i64) {
    (job["accepted"].as_i64().unwrap(), job["already_present"].as_i64().unwrap(), job["rejected"].as_i64().unwrap())
}

fn rejections(job: &Value) -> Vec<(i64, String)> {
    job["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rejection| (rejection["line"].as_i64().unwrap(), rejection["code"].as_str().unwrap().to_owned()))
        .collect()
}

fn children(session: &Session<'_>, parent: &str) -> Vec<String> {
    let regions: Value = session.get(&format!("/v1/regions?parent={parent}")).json().unwrap();
    regions.as_array().unwrap().iter().map(|region| region["code"].as_str().unwrap().to_owned()).collect()
}

const REGIONS: &str = "code,name\n35,JAWA TIMUR\n35.07,KAB. MALANG\n35.07.01,DONOMULYO\n\
                       36.01.01.2001,TANPA INDUK\n35.07.01.2001,KEDUNGSALAM\n";

const HEADER: &str = "nik,family_card_number,recipient_name,address,village_code,category,members\n";
const SITI: &str = "3204125508850901,3204120101080901,Siti Import,Kp. Cileunyi RT 01/02,32.04.12.2001,regular,\
                    Siti Import:pregnant_or_nursing;Budi Import:school_child:sd\n";
const DEWI: &str =
    "3204125508850902,3204120101080902,Dewi Import,Jl. Merdeka 5,32.04.12.2001,regular,Dewi Import:child_under_six\n";
const SITI_OTHER: &str = "3204125508850901,3204120101080901,Nama Lain,Jl. Lain,32.04.12.2001,regular,\
                          Nama Lain:child_under_six\n";
const SEMARANG: &str =
    "3374015508850903,3374010101080903,Rina Import,Jl. Pemuda,33.74.01.1001,regular,Rina Import:child_under_six\n";
const TONO: &str =
    "3204125508850904,3204120101080904,Tono Import,Jl. Sawah,32.04.12.2001,elderly,Tono Import:elderly\n";

on_both_backends! {
    fn a_regions_file_keeps_its_good_lines_reports_the_bad_and_changes_nothing_the_second_time(database) {
        let server = TestServer::start(&database);
        let admin = Session::operator(&server, "admin");
        let job = import(&admin, &server, "regions", REGIONS);
        assert_eq!(counts(&job), (4, 0, 1), "{job}");
        assert_eq!(rejections(&job), vec![(5, "INVALID_REQUEST".to_owned())]);
        assert!(job["rejections"][0]["reason"].as_str().unwrap().contains("parent region 36.01.01 does not exist"));
        assert_eq!(children(&admin, "35.07.01"), vec!["35.07.01.2001"]);

        let again = import(&admin, &server, "regions", REGIONS);
        assert_eq!(again["id"], job["id"], "the same file is the same job");
        assert_eq!(counts(&again), (4, 0, 1));
        // The same regions in another file: already present, not refused.
        let reordered = import(&admin, &server, "regions", "name,code\nKAB. MALANG,35.07\n");
        assert_eq!(counts(&reordered), (0, 1, 0), "{reordered}");

        let operator = Session::operator(&server, "operator.jabar");
        assert_problem(upload(&operator, &server, "regions", REGIONS), 403, "FORBIDDEN");
    }

    fn a_file_refused_whole_says_why_with_a_code_and_writes_nothing(database) {
        let server = TestServer::start(&database);
        let admin = Session::operator(&server, "admin");
        let refused: [(&str, Vec<u8>, u16, &str, &str); 6] = [
            ("regions", b"code\n37,BANTEN\n".to_vec(), 400, "IMPORT_FILE_INVALID", "missing column(s) name"),
            ("regions", b"code,name,note\n37,BANTEN,x\n".to_vec(), 400, "IMPORT_FILE_INVALID", "unknown column(s) note"),
            ("regions", b"code;name\n37;BANTEN\n".to_vec(), 400, "IMPORT_FILE_INVALID", "separated by ';'"),
            ("regions", b"code,name\n37,BANT\xC9N\n".to_vec(), 400, "IMPORT_FILE_INVALID", "not UTF-8"),
            ("regions", b"code,name\n37,BANTEN\0\n".to_vec(), 400, "CHARACTER_NOT_ALLOWED", "U+0000"),
            ("families", format!("nik,recipient_name\n{SITI}").into_bytes(), 400, "IMPORT_FILE_INVALID", "missing column"),
        ];
        for (kind, body, status, code, reason) in refused {
            let problem = assert_problem(upload(&admin, &server, kind, body), status, code);
            assert!(problem["detail"].as_str().unwrap().contains(reason), "{problem}");
        }
        let provinces = admin.get("/v1/regions").text().unwrap();
        assert!(!provinces.contains("\"37\""), "nothing was written: {provinces}");
        assert_eq!(admin.get("/v1/imports/1").status(), 404, "no job was created");
    }

    fn a_families_file_is_checked_like_single_registrations_and_the_command_line_imports_beside_the_server(database) {
        let server = TestServer::start(&database);
        let operator = Session::operator(&server, "operator.jabar");
        let file = format!("{HEADER}{SITI}{DEWI}{SITI_OTHER}{SEMARANG}{SITI}");
        let job = import(&operator, &server, "families", &file);
        assert_eq!(counts(&job), (2, 1, 2), "{job}");
        assert_eq!(rejections(&job), vec![(4, "FAMILY_EXISTS".to_owned()), (5, "FORBIDDEN".to_owned())]);
        let reasons = job["rejections"].to_string();
        for personal in ["Nama Lain", "3204125508850901", "Rina Import", "3374015508850903"] {
            assert!(!reasons.contains(personal), "a reason repeats personal data: {reasons}");
        }
        // Refused lines come a page at a time.
        let first: Value = operator.get(&format!("/v1/imports/{}?limit=1", job["id"])).json().unwrap();
        assert_eq!((rejections(&first), first["next_after"].clone()), (vec![(4, "FAMILY_EXISTS".to_owned())], json!(4)));
        let next: Value = operator.get(&format!("/v1/imports/{}?limit=1&after=4", job["id"])).json().unwrap();
        assert_eq!((rejections(&next), next["next_after"].clone()), (vec![(5, "FORBIDDEN".to_owned())], Value::Null));
        assert_problem(operator.get(&format!("/v1/imports/{}?limit=0", job["id"])), 400, "PAGING_INVALID");
        // Another operator can neither see the job nor issue cards outside its region.
        let jateng = Session::operator(&server, "operator.jateng");
        assert_eq!(jateng.get(&format!("/v1/imports/{}", job["id"])).status(), 404);
        let elsewhere = jateng.post("/v1/regions/32.04.12.2001/card-issuance", &json!({"bank": "bri"}));
        assert_problem(elsewhere, 404, "NOT_FOUND");

        // The command line, on the same database while the server runs.
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("families.csv");
        std::fs::write(&path, format!("{HEADER}{SITI}{TONO}")).unwrap();
        let output = kks(&database, &["import", "families", path.to_str().unwrap()]);
        let printed = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{printed}{}", String::from_utf8_lossy(&output.stderr));
        assert!(printed.contains("1 accepted, 1 already present, 0 refused"), "{printed}");
        let again = kks(&database, &["import", "families", path.to_str().unwrap()]);
        assert!(String::from_utf8_lossy(&again.stdout).contains("imported already"));
        std::fs::write(&path, "nik\n1\n").unwrap();
        let refused = kks(&database, &["import", "families", path.to_str().unwrap()]);
        assert_eq!(refused.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&refused.stderr).contains("missing column"));

        // Bulk issuance for the village: the three imported families get cards; the
        // mailer comes once, and its PINs open the family app.
        let started = operator.post("/v1/regions/32.04.12.2001/card-issuance", &json!({"bank": "bri"}));
        assert_eq!(started.status(), 202, "{}", started.text().unwrap_or_default());
        let location = started.headers()["location"].to_str().unwrap().to_owned();
        let issuance = finished(&operator, &location);
        assert_eq!(counts(&issuance), (3, 0, 0), "{issuance}");
        assert_eq!(issuance["pin_mailer"], "available");
        let mailer = operator.get(&format!("{location}/pin-mailer"));
        assert_eq!(mailer.status(), 200);
        let mailer = mailer.text().unwrap();
        let lines: Vec<&str> = mailer.lines().collect();
        assert_eq!(lines[0], "card_number,family_id,recipient_name,pin");
        assert_eq!(lines.len(), 4, "{}", lines.len());
        assert!(mailer.contains(",Tono Import,"), "names as plain CSV fields");
        assert_problem(operator.get(&format!("{location}/pin-mailer")), 410, "PIN_MAILER_GONE");
        let fields: Vec<&str> = lines[1].split(',').collect();
        let family = Session::from_card(&server, fields[0], fields[3]);
        let me: Value = family.get("/v1/me").json().unwrap();
        assert_eq!(me["role"], "family", "{me}");
        let after: Value = operator.get(&location).json().unwrap();
        assert_eq!(after["pin_mailer"], "downloaded");
    }
}
