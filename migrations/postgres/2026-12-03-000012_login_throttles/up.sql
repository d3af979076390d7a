-- Failed family-app logins, per card number and per client address (domain/login_throttle.rs):
-- kept in the database so that every server behind the load balancer counts the same
-- failures. Apart from the card's PIN counter, which only the agent's terminal moves.
-- Keep in step with the other backend's folder: the two share one schema.
CREATE TABLE login_throttles (
    -- `card:<number>` or `client:<address>`.
    subject TEXT PRIMARY KEY,
    failures INTEGER NOT NULL CHECK (failures >= 0),
    last_failure_at TIMESTAMP NOT NULL,
    -- No attempt is taken before this moment.
    blocked_until TIMESTAMP NOT NULL
);
-- Old rows are swept by the time of their last failure.
CREATE INDEX login_throttles_last_failure ON login_throttles (last_failure_at);
