//! `/__sim/stats` and `/__sim/state`: what tests and benchmarks read back, outside the
//! API (no auth, no limiter, no faults), and only from loopback addresses.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::server::Sim;
use crate::state::Portal;
use crate::wire::{ApiError, json_response};

pub fn router() -> Router<Sim> {
    Router::new()
        .route("/__sim/stats", get(stats))
        .route("/__sim/state", get(state))
}

fn loopback(ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Result<(), ApiError> {
    if peer.ip().is_loopback() {
        Ok(())
    } else {
        Err(ApiError::Empty(StatusCode::NOT_FOUND))
    }
}

async fn stats(
    State(sim): State<Sim>,
    peer: ConnectInfo<SocketAddr>,
) -> Result<Response, ApiError> {
    loopback(peer)?;
    Ok(json_response(StatusCode::OK, &sim.stats().to_json()))
}

async fn state(
    State(sim): State<Sim>,
    peer: ConnectInfo<SocketAddr>,
) -> Result<Response, ApiError> {
    loopback(peer)?;
    let portal = sim.portal();
    let jobs = sim.jobs.lock().expect("jobs lock");
    let now = std::time::Instant::now();
    let mut value = snapshot(&portal);
    value["reassignJobs"] = jobs.reassign.values().map(|j| j.dto(now)).collect();
    value["removeJobs"] = jobs.remove.values().map(|j| j.dto(now)).collect();
    value["operations"] = jobs
        .operations
        .iter()
        .map(|op| {
            let mut dto = op.dto(now);
            dto["owner"] = op.owner.to_string().into();
            dto
        })
        .collect();
    Ok(json_response(StatusCode::OK, &value))
}

/// The whole portal as plain JSON (no envelopes, no DTO decoration).
pub fn snapshot(portal: &Portal) -> Value {
    let share = |s: &crate::state::Share| json!({"subject": s.subject.to_string(), "isGroup": s.is_group, "access": s.access});
    json!({
        "name": portal.name,
        "timeZone": portal.zone.iana_name(),
        "auditFeature": portal.audit_feature,
        "owner": portal.owner.to_string(),
        "roomsRoot": portal.rooms_root,
        "archiveRoot": portal.archive_root,
        "users": portal.user_order.iter().filter_map(|id| portal.user(*id)).map(|u| json!({
            "id": u.id.to_string(), "email": u.email, "firstName": u.first_name, "lastName": u.last_name,
            "type": u.kind.name(), "status": u.status as u8, "ldap": u.ldap,
            "myDocuments": u.my_documents, "trash": u.trash,
        })).collect::<Vec<_>>(),
        "groups": portal.groups.iter().map(|g| json!({
            "id": g.id.to_string(), "name": g.name,
            "manager": g.manager.map(|m| m.to_string()),
            "members": g.members.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "folders": portal.folders.values().map(|f| json!({
            "id": f.id, "parent": f.parent, "title": f.title, "folderType": f.folder_type,
            "roomType": f.room_type, "createdBy": f.created_by.to_string(),
            "shares": f.shares.iter().map(share).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "files": portal.files.values().map(|f| json!({
            "id": f.id, "folder": f.folder, "title": f.title, "createdBy": f.created_by.to_string(),
            "shares": f.shares.iter().map(share).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "keys": portal.keys.iter().map(|k| json!({
            "id": k.id.to_string(), "name": k.name, "createdBy": k.created_by.to_string(),
            "active": k.active, "postfix": k.postfix(),
        })).collect::<Vec<_>>(),
        "audit": portal.audit.iter().map(|e| json!({
            "id": e.id, "date": e.date.to_string(), "user": e.user.to_string(), "action": e.action,
            "description": e.description, "target": e.target,
        })).collect::<Vec<_>>(),
        "logins": portal.logins.iter().map(|e| json!({
            "id": e.id, "date": e.date.to_string(), "user": e.user.to_string(), "action": e.action,
            "active": e.active,
        })).collect::<Vec<_>>(),
    })
}
