/* Test driver for tests/integration/webui-actions.sh, served beside the
 * real UI from a --webui-dir copy (never built into the master). It does
 * what an operator would, as the URL's fragment says:
 *   #action=drain|undrain|teardown|kill&target=ID[&token=T][&answer=no]
 *   #action=scope&target=AGENT_ID: clicks the agent's task count, which
 *   narrows the task table to that agent; done once the table shows it.
 *   #action=output&target=TASK_ID: clicks the task's row; done once its
 *   details show some of its output (read through the master).
 * types the token into the header's field, clicks the action's button
 * in the target's row (for kill: the task's row, then Kill task in its
 * details), then Confirm (or Cancel with answer=no), and marks
 * document.body.dataset.done = "1" once the answer is shown (or, after
 * Cancel, the confirmation is gone). */
'use strict';

document.addEventListener('DOMContentLoaded', () => {
    const p = new URLSearchParams(location.hash.slice(1));
    const action = p.get('action'), target = p.get('target');
    const tok = document.getElementById('token');
    if (p.has('token')) {
        tok.value = p.get('token');
        tok.dispatchEvent(new Event('input'));
    }
    let step = 0;
    const timer = setInterval(() => {
        if (document.body.dataset.ready !== '1')
            return;
        if (step === 0) {
            let b = null;
            if (action === 'scope') {
                const a = document.querySelector('tr[data-agent="' + CSS.escape(target) + '"] a.scope');
                if (!a)
                    return;
                a.click();
                step = 4;
                return;
            }
            if (action === 'output') {
                const row = document.querySelector('#tasks tr[data-task="' + CSS.escape(target) + '"]');
                if (!row)
                    return;
                row.click();
                step = 5;
                return;
            }
            if (action === 'kill') {
                const row = document.querySelector('#tasks tr[data-task="' + CSS.escape(target) + '"]');
                if (!row)
                    return;
                row.click();
                step = 1;
                return;
            }
            const attr = action === 'teardown' ? 'data-framework' : 'data-agent';
            b = document.querySelector('tr[' + attr + '="' + CSS.escape(target) + '"] '
                                       + 'button[data-action="' + action + '"]');
            if (!b)
                return;
            b.click();
            step = 2;
        } else if (step === 1) {
            const k = document.getElementById('task-kill');
            if (document.getElementById('task-details').hidden || k.hidden)
                return;
            k.click();
            step = 2;
        } else if (step === 2) {
            if (document.getElementById('confirm').hidden)
                return;
            document.getElementById(p.get('answer') === 'no' ? 'confirm-no' : 'confirm-yes').click();
            step = 3;
        } else if (step === 5) {
            if (!document.getElementById('log-text').textContent)
                return;
            document.body.dataset.done = '1';
            clearInterval(timer);
        } else if (step === 4) {
            if (document.getElementById('task-scope').hidden)
                return;
            document.body.dataset.done = '1';
            clearInterval(timer);
        } else if (step === 3) {
            if (p.get('answer') !== 'no' && document.getElementById('action-result').hidden)
                return;
            document.body.dataset.done = '1';
            clearInterval(timer);
        }
    }, 50);
});
