//! `migration-gate ci`: the GitHub Action's brain. Reads the runner environment and does the
//! right thing for the event (pull_request, push, workflow_dispatch).
