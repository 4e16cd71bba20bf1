//! The `axum_app` example's application: a small JSON REST service for notes, an axum
//! [`Router`] with its state behind a `filch::sync::RwLock`, served with
//! `filch::hyper::serve` (axum's own `axum::serve` needs tokio's runtime).
//!
//! | request | answer |
//! |---|---|
//! | `GET /items` | `200`, every note, oldest first |
//! | `GET /items/{id}` | `200` and the note, or `404` with `{"error": "..."}` |
//! | `POST /items` with `{"text": "...", "done": false}` (`done` optional) | `201`, the new note, and its `Location` |
//! | `DELETE /items/{id}` | `204`, or `404` with `{"error": "..."}` |
//!
//! Request bodies are checked by axum's [`Json`] extractor: a body that is not JSON is a
//! `400`, JSON of the wrong shape (no `text`, a number for `text`, an unknown field) a `422`, and a
//! request without `Content-Type: application/json` a `415`.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use filch::sync::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A stored note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Assigned by the server, from 1 up; never reused.
    pub id: u64,
    /// What the note says.
    pub text: String,
    /// Whether it is done.
    pub done: bool,
}

/// The body of `POST /items`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    /// What the note says.
    pub text: String,
    /// Whether it is done already (default: no).
    #[serde(default)]
    pub done: bool,
}

/// The JSON body of every error this app answers itself (`{"error": "..."}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub error: String,
}

/// The notes, and the next id to give out.
#[derive(Debug, Default)]
struct Store {
    next_id: u64,
    items: BTreeMap<u64, Item>,
}

/// The state every handler shares: one store, many readers or one writer at a time.
type Shared = Arc<RwLock<Store>>;

/// An error answered as a status and a JSON [`ErrorBody`].
#[derive(Debug)]
enum ApiError {
    NotFound(u64),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::NotFound(id) => {
                let body = ErrorBody {
                    error: format!("no item with id {id}"),
                };
                (StatusCode::NOT_FOUND, Json(body)).into_response()
            }
        }
    }
}

/// The application, with an empty store: mount it anywhere, or serve it with
/// `filch::hyper::serve(listener, app())`. Every call makes a new, independent store.
pub fn app() -> Router {
    let store: Shared = Arc::default();
    Router::new()
        .route("/items", get(list_items).post(create_item))
        .route("/items/{id}", get(get_item).delete(delete_item))
        .with_state(store)
}

async fn list_items(State(store): State<Shared>) -> Json<Vec<Item>> {
    Json(store.read().await.items.values().cloned().collect())
}

async fn get_item(
    State(store): State<Shared>,
    Path(id): Path<u64>,
) -> Result<Json<Item>, ApiError> {
    let store = store.read().await;
    store
        .items
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or(ApiError::NotFound(id))
}

async fn create_item(State(store): State<Shared>, Json(new): Json<NewItem>) -> impl IntoResponse {
    let item = {
        let mut store = store.write().await;
        store.next_id += 1;
        let item = Item {
            id: store.next_id,
            text: new.text,
            done: new.done,
        };
        store.items.insert(item.id, item.clone());
        item
    };
    let location = format!("/items/{}", item.id);
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(item),
    )
}

async fn delete_item(
    State(store): State<Shared>,
    Path(id): Path<u64>,
) -> Result<StatusCode, ApiError> {
    match store.write().await.items.remove(&id) {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::NotFound(id)),
    }
}
