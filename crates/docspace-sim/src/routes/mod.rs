//! The route table: every endpoint the simulator serves, by DocSpace's templates.
//! Literal segments beat parameters (`files/fileops/move` is the "check move" GET,
//! not "operations of type Move"), an unknown path is a 404 with an empty body, and
//! a known path with another verb a 405.

pub mod fileops;
pub mod files;
pub mod groups;
pub mod introspect;
pub mod members;
pub mod people;
pub mod reassign;
pub mod security;
pub mod sharing;

use axum::Router;
use axum::routing::{delete, get, post, put};

use crate::server::{Sim, with_middleware};

pub fn router(sim: Sim) -> Router {
    let api = Router::new()
        .route("/api/2.0/people", get(people::list).post(members::create))
        .route("/api/2.0/people/active", post(members::create_activated))
        .route("/api/2.0/people/@self", get(people::me))
        .route("/api/2.0/people/email", get(people::by_email))
        .route("/api/2.0/people/filter", get(people::filter))
        .route("/api/2.0/people/simple/filter", get(people::simple_filter))
        .route(
            "/api/2.0/people/status/{status}",
            get(people::by_status).put(people::update_status),
        )
        .route(
            "/api/2.0/people/reassign/necessary",
            get(reassign::necessary),
        )
        .route("/api/2.0/people/reassign/start", post(reassign::start))
        .route(
            "/api/2.0/people/reassign/progress/{userid}",
            get(reassign::progress),
        )
        .route(
            "/api/2.0/people/reassign/terminate",
            put(reassign::terminate),
        )
        .route("/api/2.0/people/remove/start", post(reassign::remove_start))
        .route(
            "/api/2.0/people/remove/progress/{userid}",
            get(reassign::remove_progress),
        )
        .route(
            "/api/2.0/people/remove/terminate",
            put(reassign::remove_terminate),
        )
        .route("/api/2.0/people/self/delete", put(reassign::self_delete))
        .route(
            "/api/2.0/people/delete/personal/start",
            post(reassign::personal_delete_start),
        )
        .route(
            "/api/2.0/people/delete/personal/progress",
            get(reassign::personal_delete_progress),
        )
        .route(
            "/api/2.0/people/{userid}",
            get(people::by_id)
                .put(people::update_member)
                .delete(people::delete),
        )
        .route("/api/2.0/files/@my", get(files::my_documents))
        .route("/api/2.0/files/@my/file", post(files::create_file_in_my))
        .route("/api/2.0/files/@trash", get(files::trash))
        .route("/api/2.0/files/{id}", get(files::folder_contents))
        .route("/api/2.0/files/{id}/subfolders", get(files::subfolders))
        .route("/api/2.0/files/{id}/file", post(files::create_file))
        .route(
            "/api/2.0/files/folder/{id}",
            get(files::folder_info).post(files::create_folder),
        )
        .route("/api/2.0/files/folder/{id}/path", get(files::folder_path))
        .route(
            "/api/2.0/files/folder/{id}/share",
            get(sharing::folder_share).put(sharing::set_folder_share),
        )
        .route(
            "/api/2.0/files/rooms",
            get(files::rooms).post(files::create_room),
        )
        .route("/api/2.0/files/rooms/{id}", get(files::room_info))
        .route(
            "/api/2.0/files/rooms/{id}/share",
            get(sharing::room_share).put(sharing::set_room_share),
        )
        .route("/api/2.0/files/rooms/{id}/archive", put(fileops::archive))
        .route(
            "/api/2.0/files/rooms/{id}/unarchive",
            put(fileops::unarchive),
        )
        .route("/api/2.0/files/owner", post(files::change_owner))
        .route("/api/2.0/files/fileops", get(fileops::list))
        .route(
            "/api/2.0/files/fileops/move",
            get(fileops::check_move_route).put(fileops::move_items),
        )
        .route(
            "/api/2.0/files/fileops/bulkdownload",
            put(fileops::bulk_download),
        )
        .route(
            "/api/2.0/files/fileops/terminate",
            put(fileops::terminate_all),
        )
        .route(
            "/api/2.0/files/fileops/terminate/{id}",
            put(fileops::terminate_one),
        )
        .route("/api/2.0/files/fileops/{kind}", get(fileops::list_by_type))
        .route(
            "/api/2.0/security/audit/events/filter",
            get(security::audit_events),
        )
        .route(
            "/api/2.0/security/audit/login/filter",
            get(security::login_events),
        )
        .route(
            "/api/2.0/security/activeconnections",
            get(security::active_connections),
        )
        .route(
            "/api/2.0/security/activeconnections/logoutall/{userid}",
            put(security::logout_all),
        )
        .route(
            "/api/2.0/keys",
            get(security::keys).post(security::create_key),
        )
        .route("/api/2.0/keys/@self", get(security::keys_self))
        .route("/api/2.0/keys/permissions", get(security::key_permissions))
        .route(
            "/api/2.0/keys/{id}",
            put(security::update_key).delete(security::delete_key),
        )
        .route(
            "/api/2.0/group",
            get(groups::groups).post(groups::create_group),
        )
        .route("/api/2.0/group/{id}", get(groups::group))
        .route("/api/2.0/group/user/{userid}", get(groups::groups_of_user))
        .route(
            "/api/2.0/group/{id}/members",
            delete(groups::remove_group_members),
        )
        .route("/api/2.0/authentication", post(security::authenticate))
        .route("/apisystem/portal/register", post(security::register))
        .route("/filehandler.ashx", get(fileops::file_handler))
        .fallback(security::no_route);
    let api = with_middleware(api, sim.clone());
    Router::new()
        .merge(api)
        .merge(introspect::router())
        .with_state(sim)
}
