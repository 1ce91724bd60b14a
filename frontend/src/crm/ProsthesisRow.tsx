import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/i18n.tsx';
import { reassignProsthesis, type Prosthesis } from './crm-api.ts';
import { useCrmMessages } from './crm-messages.ts';
import { crmQueries } from './crm-queries.ts';
import { SaveProblem } from './form-parts.tsx';
import { rememberSave } from './replication.ts';
import { describeSaveFailure, type SaveFailure } from './save-failure.ts';

/** One prosthesis of the customer, with "move to another customer" (a search of the region, then a choice). */
export function ProsthesisRow({ prosthesis, onReload }: { prosthesis: Prosthesis; onReload: () => void }) {
  const m = useCrmMessages();
  const { format } = useI18n();
  const [open, setOpen] = useState(false);
  return (
    <li className="record-list__item" data-testid="prosthesis">
      <span className="record-list__title">{prosthesis.model_name}</span>
      <span className="muted small">
        {m.chipId}: {prosthesis.chip_id} · {m.serialNumber}: {prosthesis.serial_number} · {m.fittedAt}: {format.dateTime(prosthesis.fitted_at)}
      </span>
      {open ? (
        <Reassign prosthesis={prosthesis} onClose={() => setOpen(false)} onReload={onReload} />
      ) : (
        <button type="button" className="button button--small button--ghost" onClick={() => setOpen(true)}>
          {m.reassign}
        </button>
      )}
    </li>
  );
}

function Reassign({ prosthesis, onClose, onReload }: { prosthesis: Prosthesis; onClose: () => void; onReload: () => void }) {
  const m = useCrmMessages();
  const queryClient = useQueryClient();
  const [text, setText] = useState('');
  const [q, setQ] = useState<string | null>(null);
  const [target, setTarget] = useState('');
  const [failure, setFailure] = useState<SaveFailure | null>(null);
  const candidates = useQuery({ ...crmQueries.search(q ?? ''), enabled: q !== null });
  const move = useMutation({
    mutationFn: () => reassignProsthesis(prosthesis.id, prosthesis.etag, target),
    onSuccess: (moved) => {
      // Shown on the page the operator is on (the previous owner's) and on the new owner's.
      rememberSave(queryClient, { entity: 'prostheses', id: moved.id, etag: moved.etag, pages: [prosthesis.customer_id, moved.customer_id] });
      void queryClient.invalidateQueries({ queryKey: ['crm', 'customer'] });
      onClose();
    },
    onError: (error) => setFailure(describeSaveFailure(error)),
  });
  const idBase = `reassign-${prosthesis.id}`;
  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    setQ(text.trim());
  };
  const others = (candidates.data?.items ?? []).filter((customer) => customer.id !== prosthesis.customer_id);
  return (
    <div className="reassign">
      <form className="form" role="search" onSubmit={onSearch}>
        <label htmlFor={`${idBase}-q`}>{m.reassignLabel}</label>
        <div className="form__row">
          <input id={`${idBase}-q`} type="search" autoComplete="off" value={text} onChange={(event) => setText(event.target.value)} />
          <button type="submit" className="button button--small">
            {m.searchButton}
          </button>
        </div>
      </form>
      {q !== null && candidates.isSuccess ? (
        others.length === 0 ? (
          <p className="muted small">{m.noResults}</p>
        ) : (
          <fieldset className="choices">
            <legend>{m.reassignPick}</legend>
            {others.map((customer) => (
              <label key={customer.id} className="choice">
                <input type="radio" name={`${idBase}-target`} value={customer.id} checked={target === customer.id} onChange={() => setTarget(customer.id)} />
                {customer.full_name} <span className="muted small">({customer.username})</span>
              </label>
            ))}
          </fieldset>
        )
      ) : null}
      <SaveProblem failure={failure} onReload={onReload} fields={[]} />
      <div className="actions">
        <button type="button" className="button button--small" disabled={!target || move.isPending} onClick={() => move.mutate()}>
          {move.isPending ? m.saving : m.reassignConfirm}
        </button>
        <button type="button" className="button button--small button--ghost" onClick={onClose}>
          {m.cancel}
        </button>
      </div>
    </div>
  );
}
