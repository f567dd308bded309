//! The DocSpace client against the simulator over real HTTP: decoding, paging and
//! error classification end to end.

use std::time::Duration;

use docspace_sim::{Config, Source, spawn};
use offboard::docspace::{ApiError, Client, Connection, HistoryFilter, PeopleFilter, portal_url};
use secrecy::SecretString;

use crate::support::repo;

async fn portal(config: Config) -> (docspace_sim::SimHandle, Client) {
    let fixture = repo().join("crates/docspace-sim/tests/fixtures/small.yaml");
    let sim = spawn(config, &Source::fixture_file(&fixture).expect("fixture"))
        .await
        .expect("simulator");
    let client = client_for(&sim, sim.owner_key());
    (sim, client)
}

fn client_for(sim: &docspace_sim::SimHandle, key: &str) -> Client {
    Client::new(&Connection {
        portal: portal_url(&sim.url()).expect("loopback URL"),
        key: SecretString::from(key.to_owned()),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
    })
    .expect("client")
}

const LEAVER: &str = "11111111-1111-4111-8111-111111111111";

#[tokio::test]
async fn people_are_read_by_id_email_and_all_pages_of_the_filter() {
    let (sim, client) = portal(Config::for_tests()).await;
    let me = client.me().await.unwrap();
    assert!(me.is_owner);
    let leaver = client.user_by_email("leaver@example.com").await.unwrap();
    assert_eq!(leaver.id, LEAVER);
    assert_eq!(
        client.user(LEAVER).await.unwrap().email,
        "leaver@example.com"
    );
    let everyone = client.people(&PeopleFilter::default()).await.unwrap();
    assert_eq!(everyone.len(), 10);
    let disabled = client
        .people(&PeopleFilter {
            status: Some(2),
            ..PeopleFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(disabled.len(), 1);
    assert!(matches!(
        client.user_by_email("nobody@example.com").await,
        Err(ApiError::NotFound { message: Some(_) })
    ));
    sim.shutdown().await;
}

#[tokio::test]
async fn lists_longer_than_a_page_are_read_whole() {
    let sim = spawn(Config::for_tests(), &Source::Synthetic(150))
        .await
        .unwrap();
    let client = client_for(&sim, sim.owner_key());
    let everyone = client.people(&PeopleFilter::default()).await.unwrap();
    // 150 leavers + owner, archive owner, 3 HR, 10 colleagues.
    assert_eq!(everyone.len(), 165);
    let stats = sim.stats();
    assert_eq!(
        stats["byRoute"]["GET /api/2.0/people/filter"], 2,
        "two pages of 100"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn failures_are_classified() {
    let (sim, client) = portal(Config::for_tests()).await;
    let stranger = client_for(
        &sim,
        "sk-ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    );
    assert_eq!(stranger.me().await.unwrap_err(), ApiError::Unauthorized);
    let err = client
        .set_status(&[LEAVER.to_owned(), sim_owner_id(&sim)], 2)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ApiError::Forbidden {
            message: Some("Access denied".into())
        }
    );
    let err = client
        .reassign_start(LEAVER, LEAVER, false)
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::BadRequest { .. }), "{err:?}");
    // The fixture's history (a FileCreated event) comes back through the client.
    let events = client
        .audit_events(&HistoryFilter::default())
        .await
        .unwrap();
    assert!(events.iter().any(|e| e["actionId"] == 5000), "{events:?}");
    sim.shutdown().await;

    let limited = spawn(
        Config {
            rate_limit_per_minute: 1,
            ..Config::for_tests()
        },
        &Source::Synthetic(1),
    )
    .await
    .unwrap();
    let client = client_for(&limited, limited.owner_key());
    client.me().await.unwrap();
    match client.me().await.unwrap_err() {
        ApiError::RateLimited {
            retry_after: Some(after),
        } => assert!(after >= Duration::from_secs(1)),
        other => panic!("{other:?}"),
    }
    limited.shutdown().await;

    // Nobody listens there any more: a transport error, not a guess.
    let stopped = spawn(Config::for_tests(), &Source::Synthetic(1))
        .await
        .unwrap();
    let gone = client_for(&stopped, stopped.owner_key());
    stopped.shutdown().await;
    assert!(matches!(
        gone.me().await.unwrap_err(),
        ApiError::Transport { .. }
    ));
}

fn sim_owner_id(sim: &docspace_sim::SimHandle) -> String {
    sim.state()["owner"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn jobs_and_operations_through_the_client() {
    let (sim, client) = portal(Config::for_tests()).await;
    let disabled = client.set_status(&[LEAVER.to_owned()], 2).await.unwrap();
    assert!(disabled[0].is_disabled());
    let keeper = client.user_by_email("keeper@example.com").await.unwrap();
    assert!(
        client
            .reassign_necessary(LEAVER, "RoomAdmin")
            .await
            .unwrap()
    );
    let started = client
        .reassign_start(LEAVER, &keeper.id, false)
        .await
        .unwrap();
    assert!(!started.is_completed);
    let mut progress = None;
    for _ in 0..200 {
        progress = client.reassign_progress(LEAVER).await.unwrap();
        if progress.as_ref().is_some_and(|p| p.is_completed) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(progress.unwrap().status, 2);
    let room = client.folder(100).await.unwrap();
    assert_eq!(room.owner_id(), Some(keeper.id.as_str()));
    let members = client.room_members(100).await.unwrap();
    assert!(members[0].is_owner);

    let op = client.archive_room(100).await.unwrap();
    assert_eq!(op.kind, 0);
    let mut finished = None;
    for _ in 0..200 {
        let ops = client.operations().await.unwrap();
        if let Some(done) = ops.into_iter().find(|o| o.id == op.id && o.finished) {
            finished = Some(done);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(finished.unwrap().failure().is_none());
    assert!(client.folder(100).await.unwrap().is_archived());

    let keys = client.api_keys().await.unwrap();
    let leaver_key = keys
        .iter()
        .find(|k| k.create_by.as_ref().is_some_and(|c| c.id == LEAVER))
        .unwrap();
    assert!(client.delete_api_key(&leaver_key.id).await.unwrap());
    let hr = client.groups("HR").await.unwrap();
    assert_eq!(hr[0].name, "HR");
    sim.shutdown().await;
}

#[tokio::test]
async fn login_history_is_filtered_here_because_the_server_pages_first() {
    // 150 logins of others after the leaver's: the leaver's event is on page 2 of the
    // raw history, which a server-side filter would never reach.
    let (sim, client) = portal(Config::for_tests()).await;
    let http = crate::support::http();
    for _ in 0..150 {
        http.post(format!("{}/api/2.0/authentication", sim.url()))
            .json(&serde_json::json!({"userName": "nobody@example.com", "password": "x"}))
            .send()
            .await
            .unwrap();
        http.post(format!("{}/api/2.0/authentication", sim.url()))
            .json(&serde_json::json!({"userName": "plain@example.com", "password": "wrong"}))
            .send()
            .await
            .unwrap();
    }
    let filter = HistoryFilter {
        user: Some(LEAVER.to_owned()),
        ..HistoryFilter::default()
    };
    let events = client.login_events(&filter).await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["actionId"], 1000);
    sim.shutdown().await;
}

#[tokio::test]
async fn downloads_go_only_to_the_portal() {
    let (sim, client) = portal(Config::for_tests()).await;
    let err = client
        .download("https://elsewhere.example/filehandler.ashx?action=bulk")
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::UnexpectedShape { .. }), "{err:?}");
    sim.shutdown().await;
}

/// DocSpace HTML-encodes `EmployeeDto.displayName` (DisplayUserSettingsHelper.
/// GetFullUserName, `HttpUtility.HtmlEncode`): the simulator sends it so, and the
/// client reads the name as written.
#[tokio::test]
async fn display_names_are_html_encoded_on_the_wire_and_decoded_by_the_client() {
    let (sim, client) = portal(Config::for_tests()).await;
    let http = crate::support::http();
    let created: serde_json::Value = http
        .post(format!("{}/api/2.0/people", sim.url()))
        .bearer_auth(sim.owner_key())
        .json(&serde_json::json!({
            "email": "siobhan@example.com", "firstName": "Siobhán", "lastName": "O'Brien <R&D> 🌿",
            "type": "RoomAdmin", "password": "secret-pass"
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        created["response"]["displayName"],
        "Siobh&#225;n O&#39;Brien &lt;R&amp;D&gt; &#127807;"
    );
    let read = client.user_by_email("siobhan@example.com").await.unwrap();
    assert_eq!(read.display_name, "Siobhán O'Brien <R&D> 🌿");
    sim.shutdown().await;
}
