/** What a rule found: one alert to raise, unless its (rule, key) is cooling down. */
export interface AlertDraft {
  rule: AlertRule;
  /** The cooldown is per (rule, key): a student (`token:<token>` when anonymous) or an error type. */
  key: string;
  studentId: string | null;
  sessionId: string | null;
  title: string;
  detail: string;
  data: Record<string, unknown>;
}

export type AlertRule = 'repeated_error' | 'error_spike' | 'stuck' | 'call_error';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'not_configured';

/** A stored alert. */
export interface AlertRecord {
  id: string;
  rule: AlertRule;
  key: string;
  student_id: string | null;
  session_id: string | null;
  title: string;
  detail: string;
  data: Record<string, unknown>;
  created_at: string;
  delivery: { status: DeliveryStatus; attempts: number };
}

/** The delivery port: send one alert somewhere, or throw a DeliveryError. */
export interface AlertSink {
  send(alert: AlertRecord): Promise<void>;
}

/** A failed delivery. `reason` is safe to store and log: a status or an error class, never the URL. */
export class DeliveryError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(`alert delivery failed: ${reason}`);
    this.name = 'DeliveryError';
    this.reason = reason;
  }
}
