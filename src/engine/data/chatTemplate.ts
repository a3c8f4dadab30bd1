// A model's Jinja chat template (tokenizer_config.json) applied to a conversation, as pieces.
//
// The template is rendered with each message's content replaced by a marker, so that its output splits
// cleanly into template text (trusted: "<|im_start|>" there is the control token) and the users' text
// (never a control token, whatever it contains). The assistant's content is trained, together with the
// template text right after it up to and including the first special token (the end-of-turn token,
// "<|im_end|>", "<|eot_id|>", "</s>"): a model that never learns to end its turn never stops.
// Templates see markers, not the text: a template that parses message content (Qwen3 splitting out
// <think> blocks) treats it as plain content.
import { Template } from '@huggingface/jinja';
import type { Tokenizer } from '../tokenizer';
import { DataError } from './dataError';
import type { TrainPiece } from './exampleEncoder';
import type { ChatMessage } from './recordSchema';

const marker = (i: number) => `\uFDD0${i}\uFDD1`;
const MARKER = /\uFDD0(\d+)\uFDD1/g;

export interface ChatFormatter {
  /** Pieces of the conversation, or the template's complaint about it. */
  pieces(messages: readonly ChatMessage[], at: { file: string; line: number }, trainOnAll: boolean): TrainPiece[] | DataError;
}

export function chatFormatter(tokenizer: Tokenizer, source: string, origin: string): ChatFormatter {
  let template: Template;
  try {
    template = new Template(source);
  } catch (error) {
    throw new DataError({ code: 'settings', file: origin, problem: `the chat template cannot be parsed: ${(error as Error).message}`, fix: 'fix the template, or use a prompt template[[ ({{template}})]] instead' });
  }
  const specials = [...tokenizer.specialTokens].sort((a, b) => b.length - a.length);
  const firstSpecialEnd = (text: string): number => {
    let best = -1;
    let end = 0;
    for (const s of specials) {
      const k = text.indexOf(s);
      if (k >= 0 && (best < 0 || k < best)) { best = k; end = k + s.length; }
    }
    return best < 0 ? 0 : end;
  };
  return {
    pieces(messages, at, trainOnAll) {
      let rendered: string;
      try {
        rendered = template.render({
          messages: messages.map((m, i) => ({ role: m.role, content: marker(i) })),
          bos_token: tokenizer.bosToken ?? '',
          eos_token: tokenizer.eosToken ?? '',
          pad_token: tokenizer.padToken ?? '',
          add_generation_prompt: false,
        });
      } catch (error) {
        return new DataError({
          code: 'template', file: at.file, line: at.line,
          problem: `the chat template rejects this conversation: ${(error as Error).message}`,
          fix: 'order the messages as the model expects (often: optional system, then user and assistant taking turns)',
        });
      }
      const pieces: TrainPiece[] = [];
      let last = 0;
      let afterAssistant = false;
      const pushTemplate = (text: string) => {
        if (!text) return;
        if (afterAssistant && !trainOnAll) {
          const cut = firstSpecialEnd(text);
          if (cut > 0) pieces.push({ text: text.slice(0, cut), trusted: true, train: true });
          if (cut < text.length) pieces.push({ text: text.slice(cut), trusted: true, train: false });
        } else {
          pieces.push({ text, trusted: true, train: trainOnAll });
        }
      };
      let shown = 0;
      for (const m of rendered.matchAll(MARKER)) {
        pushTemplate(rendered.slice(last, m.index));
        const msg = messages[Number(m[1])];
        if (!msg) continue;
        const assistant = msg.role === 'assistant';
        if (assistant) shown++;
        pieces.push({ text: msg.content, train: trainOnAll || assistant });
        afterAssistant = assistant;
        last = m.index! + m[0].length;
      }
      pushTemplate(rendered.slice(last));
      if (shown === 0) {
        return new DataError({
          code: 'template', file: at.file, line: at.line,
          problem: 'the chat template does not show any assistant message of this conversation',
          fix: 'check the roles (the reply to learn must have role "assistant"), or use a prompt template[[ ({{template}})]]',
        });
      }
      return pieces;
    },
  };
}
