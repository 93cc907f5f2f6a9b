package dev.airlock.preflight;

/**
 * One capability of the target and what the registry answered.
 *
 * @param capability what was asked, e.g. "OCI index"
 * @param yes        the registry can do it
 * @param required   a "no" makes the target unable to import (for a bundle: unable to import
 *                   the images that need it)
 * @param answer     the registry's own answer or what was observed, one line
 */
public record Check(String capability, boolean yes, boolean required, String answer) {
    static Check yes(String capability, boolean required, String answer) {
        return new Check(capability, true, required, answer);
    }

    static Check no(String capability, boolean required, String answer) {
        return new Check(capability, false, required, answer);
    }

    /** A "no" that stops the import. */
    public boolean blocks() {
        return required && !yes;
    }
}
