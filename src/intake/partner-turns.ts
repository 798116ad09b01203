/**
 * One acceptance per partner at a time in this process. Acceptances of one partner
 * serialize anyway on its `partner_state` row lock (the sequence is decided under it);
 * waiting here instead of on the lock keeps the waiters from holding pool connections,
 * which the apply jobs and status look-ups need meanwhile (measured: with 64 concurrent
 * 1-record DELTAs, 7.7 of 10 connections sat waiting on the row lock). The row lock
 * still orders acceptances across processes.
 */
export class PartnerTurns {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `work` once every earlier turn of `partner` in this process has ended, however it ended. */
  take<T>(partner: string, work: () => Promise<T>): Promise<T> {
    const mine = (this.tails.get(partner) ?? Promise.resolve()).then(work);
    const tail = mine.then(
      () => {},
      () => {},
    );
    this.tails.set(partner, tail);
    void tail.then(() => {
      if (this.tails.get(partner) === tail) this.tails.delete(partner);
    });
    return mine;
  }
}
